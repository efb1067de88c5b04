"""Official terms in every language: JMA epicenter names, tsunami coasts, volcanoes.

Epicenter names come from JMA's multilingual dictionary (``bot/data/epicenters.json``,
see ``bot/data/SOURCES.md``) and are used exactly as written there. Intensity and
warning names are catalog messages (``intensity.5-``, ``warning.03``) so that
translators review them with the rest of the text; the intensity scale itself is
:class:`bot.domain.Intensity`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

EPICENTERS_JSON = Path(__file__).resolve().parent.parent / "data" / "epicenters.json"

# Our language tags -> field names in JMA's multilingual dictionary.
DICTIONARY_FIELDS: Mapping[str, str] = {
    "ja": "japanese",
    "ja-easy": "japanese",
    "en": "english",
    "zh-Hans": "chinese_zs",
    "zh-Hant": "chinese_zt",
    "ko": "korean",
    "pt": "portuguese",
    "es": "spanish",
    "vi": "vietnamese",
    "th": "thai",
    "id": "indonesian",
    "tl": "tagalog",
    "ne": "nepali",
    "km": "khmer",
    "my": "burmese",
    "mn": "mongolian",
}


@functools.cache
def _epicenters() -> Mapping[str, Mapping[str, str]]:
    with EPICENTERS_JSON.open(encoding="utf-8") as fh:
        data: Mapping[str, Mapping[str, str]] = json.load(fh)
    return data


def epicenter_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    """JMA's name of epicenter area ``code`` in ``language``.

    Unknown code or language: the English name, else the Japanese name from the
    message (``fallback_ja``), else None.
    """
    entry = _epicenters().get(str(code).strip()) if code is not None else None
    if entry:
        for field_name in (DICTIONARY_FIELDS.get(language), "english", "japanese"):
            if field_name and (entry.get(field_name) or "").strip():
                return entry[field_name].strip()
    return fallback_ja or None


# Tsunami forecast areas of the 熊本 coasts (JMA codes), in every language.
TSUNAMI_AREAS: Mapping[str, Mapping[str, str]] = {
    "712": {
        "ja": "有明・八代海",
        "ja-easy": "有明（ありあけ）・八代海（やつしろかい）",
        "en": "Ariake and Yatsushiro Seas",
        "zh-Hans": "有明海・八代海",
        "zh-Hant": "有明海・八代海",
        "ko": "아리아케·야쓰시로해",
        "vi": "Biển Ariake và biển Yatsushiro",
        "tl": "Dagat Ariake at Dagat Yatsushiro",
        "ne": "आरियाके र यात्सुसिरो समुद्र",
        "id": "Laut Ariake dan Laut Yatsushiro",
        "th": "ทะเลอาริอาเกะและทะเลยัตสึชิโระ",
        "pt": "Mares de Ariake e Yatsushiro",
        "es": "Mares de Ariake y Yatsushiro",
        "my": "အာရီအာခဲနှင့် ယာဆုရှိရိုပင်လယ်",
        "km": "សមុទ្រអារីអាកេ និងសមុទ្រយ៉ាត់ស៊ូស៊ីរ៉ូ",
        "mn": "Ариакэ ба Яцүширо тэнгис",
    },
    "740": {
        "ja": "熊本県天草灘沿岸",
        "ja-easy": "熊本県（くまもとけん） 天草灘（あまくさなだ）の 海岸（かいがん）",
        "en": "Kumamoto Prefecture Amakusa-nada Coast",
        "zh-Hans": "熊本县天草滩沿岸",
        "zh-Hant": "熊本縣天草灘沿岸",
        "ko": "구마모토현 아마쿠사나다 연안",
        "vi": "Bờ biển Amakusa-nada, tỉnh Kumamoto",
        "tl": "Baybayin ng Amakusa-nada, Kumamoto Prefecture",
        "ne": "कुमामोतो प्रिफेक्चरको आमाकुसा-नादा तट",
        "id": "Pesisir Amakusa-nada, Prefektur Kumamoto",
        "th": "ชายฝั่งอามากุซะนาดะ จังหวัดคุมาโมโตะ",
        "pt": "Costa de Amakusa-nada da Província de Kumamoto",
        "es": "Costa de Amakusa-nada, Prefectura de Kumamoto",
        "my": "ကုမမိုတိုစီရင်စု အာမာကုဆာနာဒါ ကမ်းရိုးတန်း",
        "km": "ឆ្នេរអាម៉ាគូសាណាដា ខេត្តឃឹម៉ាម៉ុតុ",
        "mn": "Күмамото мужийн Амакүса-нада эрэг",
    },
}

# Volcanoes watched for the city (JMA volcano codes).
VOLCANOES: Mapping[str, Mapping[str, str]] = {
    "503": {
        "ja": "阿蘇山",
        "ja-easy": "阿蘇山（あそさん）",
        "en": "Asosan",
        "zh-Hans": "阿苏山",
        "zh-Hant": "阿蘇山",
        "ko": "아소산",
        "vi": "Núi lửa Asosan",
        "tl": "Bulkang Asosan",
        "ne": "आसोसान ज्वालामुखी",
        "id": "Gunung Asosan",
        "th": "ภูเขาไฟอาโซซัง",
        "pt": "Vulcão Asosan",
        "es": "Volcán Asosan",
        "my": "အာဆိုဆန် မီးတောင်",
        "km": "ភ្នំភ្លើងអាសូសាន",
        "mn": "Асосан галт уул",
    },
}


def _lookup(table: Mapping[str, Mapping[str, str]], code: object, language: str,
            fallback_ja: str | None) -> str | None:
    names = table.get(str(code).strip()) if code is not None else None
    if names:
        return names.get(language) or names.get("en") or names.get("ja")
    return fallback_ja or None


def tsunami_area_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    return _lookup(TSUNAMI_AREAS, code, language, fallback_ja)


def volcano_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    return _lookup(VOLCANOES, code, language, fallback_ja)
