"""The fingerprint examiner's routes: the identifications a booking's prints opened, and their
confirmation or rejection (identity/model.py). A federal officer acts for the agencies in their
area; the officer's name is the examiner the audit entry records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from custody.access.policy import Op, Resource, authorise
from custody.access.roles import Principal
from custody.api import idempotency
from custody.api.auth import need
from custody.api.params import Limit, Offset
from custody.api.queries import within
from custody.identity import service as identity
from custody.identity.commands import ConfirmationIn, RejectionIn
from custody.identity.model import IdentificationState
from custody.service import Custody
from custody.store.models import IdentificationRow

router = APIRouter(prefix="/federal/identifications", tags=["federal"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Retry-safe key for this POST")]


def _service(request: Request, who: Principal) -> Custody:
    """The application acting for the signed-in examiner, so the audit log names them."""
    from custody.api.app import acting  # app.py includes this router, so import it when called

    service: Custody = request.app.state.service
    return acting(service, who)


def _authorised(request: Request, who: Principal, identification_id: str, op: Op) -> Custody:
    service = _service(request, who)
    with service.unit() as unit:
        agency = identity.get_identification(unit, identification_id).agency
    authorise(who, Resource.hit, op, agency)
    return service


async def _post(request: Request, key: str | None, service: Custody, work: Callable[[], Any]) -> JSONResponse:
    body = await request.body()
    code, result = await run_in_threadpool(idempotency.run, service, key, request.url.path, body, 200, work)
    return JSONResponse(result, status_code=code)


@router.get("", summary="Identifications by prints in your area (state=awaiting_examiner: the examiner's queue)")
def list_identifications(
    request: Request,
    who: Annotated[Principal, need(Resource.hit, Op.read)],
    state: IdentificationState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    scope = authorise(who, Resource.hit, Op.read)
    where = within(IdentificationRow.agency, who, scope)
    total, items = _service(request, who).identifications(limit, offset, state, where)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/{identification_id}", summary="An identification with its ranked candidates and scores")
def get_identification(
    request: Request, identification_id: str, who: Annotated[Principal, need(Resource.hit, Op.read)]
) -> dict[str, Any]:
    service = _authorised(request, who, identification_id, Op.read)
    with service.unit() as unit:
        return identity.identification_summary(identity.get_identification(unit, identification_id))


@router.post("/{identification_id}/confirmation", summary="Confirm a candidate: the agency gets the hit and record")
async def confirm(
    request: Request,
    identification_id: str,
    submission: ConfirmationIn,
    who: Annotated[Principal, need(Resource.hit, Op.update)],
    key: IdempotencyKey = None,
) -> JSONResponse:
    service = await run_in_threadpool(_authorised, request, who, identification_id, Op.update)
    return await _post(
        request,
        key,
        service,
        lambda: service.confirm_identification(identification_id, who.name, submission.identity_id),
    )


@router.post("/{identification_id}/rejection", summary="Reject every candidate: answered as if the prints found no one")
async def reject(
    request: Request,
    identification_id: str,
    submission: RejectionIn,
    who: Annotated[Principal, need(Resource.hit, Op.update)],
    key: IdempotencyKey = None,
) -> JSONResponse:
    service = await run_in_threadpool(_authorised, request, who, identification_id, Op.update)
    return await _post(
        request, key, service, lambda: service.reject_identification(identification_id, who.name, submission.reason)
    )
