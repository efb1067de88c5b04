"""Korean particles follow the word before them: 등록을, /help를, never (을)를."""

from __future__ import annotations

import pytest

from bot.config import TEMPLATES_DIR
from bot.render.catalog import Catalogs
from bot.render.korean import attach_particles, final_consonant, particle


@pytest.mark.parametrize(("word", "eul", "i", "euro"), [
    ("등록", "을", "이", "으로"),      # ends in ㄱ
    ("도움말", "을", "이", "로"),      # ends in ㄹ: 로, not 으로
    ("구마모토시", "를", "가", "로"),  # no final consonant
    ("주오구", "를", "가", "로"),
    ("/start", "를", "가", "로"),      # 스타트
    ("/stop", "을", "이", "으로"),     # 스톱
    ("/help", "를", "가", "로"),       # 헬프
    ("/kinds", "를", "가", "로"),      # 카인즈
    ("TKU", "를", "가", "로"),         # 티케이유
    ("HTML", "을", "이", "로"),        # 에이치티엠엘
    ("3", "을", "이", "으로"),         # 삼
    ("2", "를", "가", "로"),           # 이
    ("피난소 (기타구)", "를", "가", "로"),  # the last word counts, not the bracket
])
def test_particle_follows_the_final_consonant(word: str, eul: str, i: str, euro: str) -> None:
    assert particle(word, "을", "를") == eul
    assert particle(word, "이", "가") == i
    assert particle(word, "으", "로") == euro
    assert particle(word, "은", "는") == ("은" if eul == "을" else "는")


def test_final_consonant_of_empty_text_is_none() -> None:
    assert final_consonant("") == 0


def test_attach_particles_rewrites_only_marked_placeholders() -> None:
    template = "{start}(을)를 보내십시오. {city}(은)는 {place}(으)로 {other}"
    out = attach_particles(template, {"start": "등록", "city": "구마모토시", "place": "서울"})
    assert out == "{start}을 보내십시오. {city}는 {place}로 {other}"


def test_catalog_applies_particles_in_sign_up_messages() -> None:
    cats = Catalogs.load(TEMPLATES_DIR, ("ko", "en", "ja-easy", "ja"))
    line = cats.text("ko", "signup.status.none", start="등록")
    telegram = cats.text("ko", "signup.status.none", start="/start")
    assert "등록을 보내십시오" in line and "/start를 보내십시오" in telegram
    assert "(을)" not in line + telegram
