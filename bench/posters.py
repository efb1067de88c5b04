"""Posters and rich menu pictures: how long a city waits for them.

Medians over --runs runs, in this process: one language's poster (the baseline),
every language's poster plus the multilingual one (17 PDFs, no previews), one
Noto CJK face rebuilt as TrueType for reportlab, and one LINE rich menu picture.
Target: all 17 posters in under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import header, median, table

from bot.config import TEMPLATES_DIR, load_config
from bot.posters.fonts import DEFAULT_FONT_DIR, collection_index, find_file, truetype_subset
from bot.posters.make import PosterMaker
from bot.render.catalog import Catalogs
from bot.signup.menu_image import render


def timed(fn: Callable[[], object], runs: int) -> float:
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        values.append(time.perf_counter() - start)
    return median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--font-dir", type=Path, default=DEFAULT_FONT_DIR)
    args = parser.parse_args()
    header("posters and rich menu pictures")
    config = load_config()
    catalogs = Catalogs.load(TEMPLATES_DIR, config.languages, config.fallback_languages)
    maker = PosterMaker(config, catalogs, args.font_dir)
    langs = list(config.languages)
    with tempfile.TemporaryDirectory() as tmp:
        one = timed(lambda: maker.make(["vi"], "43101", Path(tmp) / "one", multilingual=False,
                                       previews=False), args.runs)
        every = timed(lambda: maker.make(langs, "43101", Path(tmp) / "all", previews=False),
                      args.runs)
    cjk = find_file(args.font_dir, "NotoSansCJK-Regular.ttc")
    assert cjk is not None, "fonts-noto-cjk is not installed"
    index = collection_index(cjk, "Noto Sans CJK SC")
    text = "".join(catalogs.text("zh-Hans", f"poster.{k}") for k in ("title", "step1", "step2"))
    face = timed(lambda: truetype_subset(cjk, index, text, "bench"), args.runs)
    labels = [catalogs.text("my", f"menu.{k}") for k in ("latest", "shelters", "safety",
                                                          "settings")]
    menu = timed(lambda: render(labels, "my", args.font_dir), args.runs)
    rows = [["one poster (vi), baseline", one, 1.0],
            [f"{len(langs)} posters + multilingual", every, every / one],
            ["CJK face → TrueType (zh-Hans)", face, face / one],
            ["rich menu picture (my, 2500x1686)", menu, menu / one]]
    print(table(["what", "median s", "ratio to one poster"], rows))
    print(f"verdict: {'OK' if every < 30 else 'SLOW'}: {len(langs) + 1} posters in "
          f"{every:.1f} s (target < 30 s)")


if __name__ == "__main__":
    main()
