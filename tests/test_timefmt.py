"""Dates as each language writes them, with the year whenever it is not this year."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.config import load_config
from bot.domain import Earthquake, EarthquakeReport, Hypocentre, Intensity, Kind
from bot.render import load_renderer
from bot.render.timefmt import JST, format_jst
from tests.render_alerts import alert
from tests.test_render_jma import LANGUAGES

# The 2016 Kumamoto foreshock: 14 April 2016, 21:26 JST.
FORESHOCK = dt.datetime(2016, 4, 14, 21, 26, tzinfo=JST)
IN_2016 = dt.datetime(2016, 4, 15, 8, 0, tzinfo=JST)
IN_2025 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=JST)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_date_of_another_year_shows_the_year(language: str) -> None:
    assert "2016" in format_jst(FORESHOCK, language, now=IN_2025)
    assert "2016" not in format_jst(FORESHOCK, language, now=IN_2016)
    assert "14" in format_jst(FORESHOCK, language, now=IN_2016)


def test_the_year_is_judged_in_japan() -> None:
    new_year = dt.datetime(2016, 12, 31, 15, 30, tzinfo=dt.UTC)  # 1 January 2017, 0:30 JST
    assert format_jst(new_year, "ja", now=dt.datetime(2017, 1, 1, 1, 0, tzinfo=JST)) == \
        "1月1日 0時30分"
    assert format_jst(new_year, "ja", now=dt.datetime(2016, 12, 31, 23, 0, tzinfo=JST)) == \
        "2017年1月1日 0時30分"


def test_natural_date_and_time_in_each_language() -> None:
    expected = {
        "ja": "2016年4月14日 21時26分",
        "en": "Apr 14, 2016, 9:26\u202fPM JST",  # CLDR: a narrow no-break space
        "es": "14 de abril de 2016, 21:26 JST",
        "pt": "14 de abr. de 2016, 21:26 JST",
        "vi": "21:26 ngày 14 tháng 4 năm 2016 JST",
        "ko": "일본 시간 2016년 4월 14일 오후 9:26",
        "zh-Hans": "日本时间2016年4月14日 21:26",
        "id": "14 Apr 2016 pukul 21.26 JST",
        "km": "14 មេសា 2016, 21:26 JST",
    }
    assert {lang: format_jst(FORESHOCK, lang, now=IN_2025) for lang in expected} == expected
    assert format_jst(FORESHOCK, "es", now=IN_2016) == "14 de abril, 21:26 JST"
    assert format_jst(FORESHOCK, "ja", now=IN_2016) == "4月14日 21時26分"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_jst(dt.datetime(2016, 4, 14, 21, 26), "en")


def test_the_foreshock_report_names_its_year_when_read_later() -> None:
    quake = replace(alert(Kind.EARTHQUAKE, Earthquake(
        report=EarthquakeReport.EPICENTER_INTENSITY, origin_time=FORESHOCK,
        hypocentre=Hypocentre(code="741", name_ja="熊本県熊本地方", depth_km=11),
        magnitude=6.5, max_intensity=Intensity.SEVEN)), issued=FORESHOCK)
    config = load_config()
    later = load_renderer(config)
    later.now = IN_2025
    same_year = load_renderer(config)
    same_year.now = IN_2016
    lines = {lang: later.text(quake, lang)[0].split("\n")[2] for lang in  # 0: key fact
             ("ja", "en", "es", "pt", "ko", "zh-Hans")}
    assert lines == {
        "ja": "発生時刻：2016年4月14日 21時26分ごろ",
        "en": "Time: about Apr 14, 2016, 9:26\u202fPM JST",
        "es": "Hora aproximada: 14 de abril de 2016, 21:26 JST",
        "pt": "Horário aproximado: 14 de abr. de 2016, 21:26 JST",
        "ko": "발생 시각: 일본 시간 2016년 4월 14일 오후 9:26경",
        "zh-Hans": "发生时间：日本时间2016年4月14日 21:26左右",
    }
    assert same_year.text(quake, "ja")[0].split("\n")[2] == "発生時刻：4月14日 21時26分ごろ"
