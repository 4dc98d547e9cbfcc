"""`pingyi qr`: every window's code of the open campaigns, as files and A4 sheets."""

from __future__ import annotations

from pathlib import Path

from pingyi.db.tables import Campaign, ServiceWindow
from pingyi.qr import qr_png, qr_svg
from pingyi.services.campaigns import units_in_scope
from pingyi.services.links import window_url
from pingyi.sheets import WindowSheet, render_sheets_pdf


class QrExportError(ValueError):
    pass


async def export_codes(out_dir: Path, campaign_code: str | None = None) -> int:
    query = Campaign.select(Campaign.id, Campaign.code, Campaign.name, Campaign.state)
    if campaign_code:
        campaigns = await query.where(Campaign.code == campaign_code)
        if not campaigns:
            raise QrExportError(f"no campaign with code {campaign_code!r}")
    else:
        campaigns = await query.where(Campaign.state == "open")
        if not campaigns:
            raise QrExportError("no campaign is open; name one with --campaign CODE")
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets = []
    for campaign in campaigns:
        units = await units_in_scope(campaign["id"])
        windows = (
            await ServiceWindow.select(
                ServiceWindow.id,
                ServiceWindow.code,
                ServiceWindow.number,
                ServiceWindow.name,
                ServiceWindow.unit.name.as_alias("hall"),
            )
            .where(ServiceWindow.unit.is_in(units or [0]) & ServiceWindow.active.eq(True))
            .order_by(ServiceWindow.code)
        )
        for window in windows:
            url = window_url(campaign["id"], window["id"])
            # With several open campaigns the campaign code keeps file names apart.
            stem = window["code"] if len(campaigns) == 1 else f"{campaign['code']}-{window['code']}"
            (out_dir / f"{stem}.png").write_bytes(qr_png(url))
            (out_dir / f"{stem}.svg").write_text(qr_svg(url), encoding="utf-8")
            sheets.append(
                WindowSheet(
                    hall=window["hall"],
                    window_number=window["number"],
                    window_name=window["name"],
                    url=url,
                    campaign_name=campaign["name"],
                )
            )
    (out_dir / "sheets.pdf").write_bytes(render_sheets_pdf(sheets))
    return len(sheets)
