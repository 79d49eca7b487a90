"""Audit routes: a round's bundle and log, every chain's head, a receipt's inclusion proof.

Auditors only ever read here; every write route elsewhere refuses them by its guard.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter

from stemmen.audit import service
from stemmen.audit.bundle import dump_bundle
from stemmen.db import DbSession

RoundId = Annotated[
    str, PathParameter(pattern=r"^[0-9a-zA-Z_-]{1,40}$", description="The round's id.")
]
ReceiptCode = Annotated[
    str,
    PathParameter(max_length=60, description="The receipt code, e.g. 7KQ-2M9-XDA-0RT-C4N-H8W-VE5."),
]


class AuditController(Controller):
    path = "/api"
    tags = ["audit"]

    @get(
        "/rounds/{round_id:str}/bundle",
        summary="The round's verifiable bundle (public once published; before that a preview "
        "for officials, and for auditors where the rule set allows)",
        description="A stemmen-bundle/1 document as canonical JSON (docs/bundle.md); check it "
        "with `stemmen verify`. Its SHA-256 is a stable id to cite it by.",
        media_type="application/json",
        responses={
            200: ResponseSpec(
                data_container=dict[str, Any],
                media_type="application/json",
                description="The bundle (or, before publication, a preview with a `preview` key)",
                generate_examples=False,
            )
        },
    )
    async def read_bundle(
        self, round_id: RoundId, request: Request[Any, Any, Any], db_session: DbSession
    ) -> Response[bytes]:
        bundle = await service.bundle_for(db_session, request.user, round_id)
        name = (
            f"{round_id}.preview.bundle.json" if "preview" in bundle else f"{round_id}.bundle.json"
        )
        return Response(
            dump_bundle(bundle),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get(
        "/rounds/{round_id:str}/log",
        summary="The round's audit-log chain and head (auditors and officials; public once published)",
    )
    async def read_log(
        self, round_id: RoundId, request: Request[Any, Any, Any], db_session: DbSession
    ) -> dict[str, Any]:
        return await service.round_log(db_session, request.user, round_id)

    @get(
        "/log/head",
        exclude_from_auth=True,
        summary="The head of every audit-log chain: publish these to have them witnessed",
    )
    async def read_heads(self, db_session: DbSession) -> dict[str, Any]:
        return {"heads": await service.log_heads(db_session)}

    @get(
        "/rounds/{round_id:str}/receipts/{code:str}/proof",
        exclude_from_auth=True,
        summary="A counted receipt's inclusion proof in the ballot tree (after the close)",
    )
    async def read_proof(
        self, round_id: RoundId, code: ReceiptCode, db_session: DbSession
    ) -> dict[str, Any]:
        return await service.receipt_proof(db_session, round_id, code)
