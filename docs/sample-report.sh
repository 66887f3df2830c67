#!/usr/bin/env bash
# Regenerate the sample report pictures in docs/ from a generated quarter (about 20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CALLSLA_DB_URL="sqlite:///$work/sample.db"
.venv/bin/python -m lab.synthetic_quarter --db-url "$CALLSLA_DB_URL" --quarter 2026Q3 --calls 20000
.venv/bin/callsla export --from 2026-07-01 --to 2026-07-31 --format xlsx -q --out "$work/july.xlsx"
.venv/bin/callsla report --quarter 2026Q3 --format pdf --out "$work/report.pdf"
.venv/bin/callsla report --quarter 2026Q3 --format xlsx --out docs/sample-report-2026Q3.xlsx
pdftoppm -png -r 70 "$work/report.pdf" "$work/page"
cp "$(ls "$work"/page-*.png | head -n 1)" docs/sample-report-2026Q3-page1.png
# the page that starts the charts section
for page in $(seq 1 "$(ls "$work"/page-*.png | wc -l)"); do
    if pdftotext -f "$page" -l "$page" "$work/report.pdf" - | grep -q "^Carta"; then
        cp "$(ls "$work"/page-*.png | sed -n "${page}p")" docs/sample-report-2026Q3-charts.png
        break
    fi
done
