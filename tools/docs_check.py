"""Look at the built site as a reader would: headless Chromium opens pages and saves screenshots to look at.

    python tools/docs_check.py                     # _docs/site -> _docs/screenshots/*.png
    python tools/docs_check.py --site DIR --out DIR

Needs Chromium (Debian: `apt-get install chromium`; `make docs-check` installs it when missing and you are root).
"""
from __future__ import annotations
import argparse, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the start page, notebook pages (equations, code, outputs, the trained models' figures) and an API page
PAGES = {'index': 'nbs/index.html', 'tour': 'nbs/tour.html', 'notebook_04_cra': 'nbs/04_cra.html',
         'notebook_10_viz': 'nbs/10_viz.html', 'api_cra': 'api/cra.html'}
SIZES = {'desktop': (1280, 2200), 'phone': (412, 1400)}


def chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    raise SystemExit('no Chromium found: install it (Debian: `apt-get update && apt-get install -y chromium`)')


def screenshot(browser: str, url: str, png: Path, size: tuple[int, int]) -> None:
    cmd = [browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run',
           f'--window-size={size[0]},{size[1]}', '--virtual-time-budget=5000', f'--screenshot={png}', url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if not png.exists(): raise SystemExit(f'Chromium saved no screenshot of {url} (exit {r.returncode}):\n{r.stderr[-2000:]}')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--site', type=Path, default=ROOT / '_docs' / 'site')
    ap.add_argument('--out', type=Path, default=ROOT / '_docs' / 'screenshots')
    args = ap.parse_args(argv)
    site = args.site.resolve()
    if not (site / 'index.html').exists(): raise SystemExit(f'no site at {site}: run `make docs` first')
    args.out.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    for name, page in PAGES.items():
        if not (site / page).exists(): raise SystemExit(f'{page} is not in the site {site}')
        for size_name, size in SIZES.items():
            png = args.out / f'{name}_{size_name}.png'
            png.unlink(missing_ok=True)
            screenshot(browser, (site / page).as_uri(), png, size)
            print(png)
    return 0


if __name__ == '__main__': sys.exit(main())
