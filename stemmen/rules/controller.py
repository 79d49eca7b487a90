"""Rule-set routes: officials and admins publish, everyone may read (the council's frame is public)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from stemmen.auth import admins_only, officials_only
from stemmen.db import DbSession
from stemmen.rules import service
from stemmen.rules.document import canonical_json, schema_document
from stemmen.rules.schemas import (
    PublishResult,
    RuleSetCreate,
    RuleSetRead,
    VersionPublish,
    VersionRead,
)

VersionHash = Annotated[
    str,
    PathParameter(
        pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the version's canonical JSON"
    ),
]


class RuleSetController(Controller):
    path = "/api"
    tags = ["rule sets"]

    @get("/ruleset-schema", summary="The published JSON Schema every rule set must satisfy")
    async def ruleset_schema(self) -> dict[str, Any]:
        return schema_document()

    @get("/rulesets", summary="Every rule set with its latest version")
    async def list_rule_sets(self, db_session: DbSession) -> list[RuleSetRead]:
        return await service.list_rule_sets(db_session)

    @post(
        "/rulesets",
        guards=[officials_only],
        summary="Create a rule set and publish its first version (officials, admins)",
        status_code=HTTP_201_CREATED,
    )
    async def create_rule_set(
        self, data: JSONBody[RuleSetCreate], request: Request[Any, Any, Any], db_session: DbSession
    ) -> Response[PublishResult]:
        result = await service.create_rule_set(db_session, data.slug, data.document, request.user)
        return Response(result, status_code=HTTP_201_CREATED if result.created else HTTP_200_OK)

    @get("/rulesets/{slug:str}", summary="One rule set and its versions")
    async def get_rule_set(self, slug: FromPath[str], db_session: DbSession) -> RuleSetRead:
        return await service.read_rule_set(db_session, await service.get_rule_set(db_session, slug))

    @post(
        "/rulesets/{slug:str}/versions",
        guards=[officials_only],
        summary="Publish a version; identical content gives the same id (200 instead of 201)",
        status_code=HTTP_201_CREATED,
    )
    async def publish_version(
        self,
        slug: FromPath[str],
        data: JSONBody[VersionPublish],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> Response[PublishResult]:
        result = await service.publish_version(db_session, slug, data.document, request.user)
        return Response(result, status_code=HTTP_201_CREATED if result.created else HTTP_200_OK)

    @get("/ruleset-versions/{version_hash:str}", summary="One published version")
    async def get_version(self, db_session: DbSession, version_hash: VersionHash) -> VersionRead:
        return await service.read_version(db_session, version_hash)

    @get(
        "/ruleset-versions/{version_hash:str}/export",
        summary="The version as a file: its canonical JSON, byte for byte what the hash covers",
        media_type="application/json",
        # The body is bytes, which Litestar would document as a string: it is a JSON object.
        responses={
            200: ResponseSpec(
                data_container=dict[str, Any],
                description="The rule-set document as canonical JSON",
                generate_examples=False,
            )
        },
    )
    async def export_version(
        self, db_session: DbSession, version_hash: VersionHash
    ) -> Response[bytes]:
        version = await service.get_version(db_session, version_hash)
        return Response(
            canonical_json(version.document),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="ruleset-{version.hash[:12]}.json"'
            },
        )

    @post(
        "/rulesets/{slug:str}/import",
        guards=[officials_only],
        summary="Import a rule-set file (as exported) as a version of this rule set",
        status_code=HTTP_201_CREATED,
    )
    async def import_version(
        self, slug: FromPath[str], request: Request[Any, Any, Any], db_session: DbSession
    ) -> Response[PublishResult]:
        from stemmen.errors import InvalidInput

        raw = await request.body()
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidInput(
                f"the file is not valid JSON: {error}", code="ruleset_file_unreadable"
            ) from error
        if not isinstance(document, dict):
            raise InvalidInput(
                "a rule-set file holds one JSON object", code="ruleset_file_unreadable"
            )
        result = await service.publish_version(db_session, slug, document, request.user)
        return Response(result, status_code=HTTP_201_CREATED if result.created else HTTP_200_OK)

    @delete(
        "/ruleset-versions/{version_hash:str}",
        guards=[admins_only],
        summary="Delete a version no round has pinned (admins); pinned versions answer 409",
    )
    async def delete_version(self, db_session: DbSession, version_hash: VersionHash) -> None:
        await service.delete_version(db_session, version_hash)
