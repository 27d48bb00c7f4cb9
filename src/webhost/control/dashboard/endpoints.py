"""Dashboard routes: pages, forms and htmx fragments; the rules live in the domain services."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from webhost.control.accounts import service as accounts
from webhost.control.accounts.schemas import LoginIn
from webhost.control.billing import service as billing
from webhost.control.dashboard import views
from webhost.control.dashboard.auth import (
    BrowserAccountDep,
    BrowserOperatorDep,
    LoginRequired,
    MaybeAccountDep,
    end_session,
    home_of,
    logged_in_redirect,
    require_csrf,
    session_token,
)
from webhost.control.dashboard.events import deployment_events
from webhost.control.dashboard.rendering import (
    DashboardRoute,
    problem_of,
    redirect,
    render,
    render_fragment,
)
from webhost.control.dependencies import (
    ClientAddressDep,
    LoginThrottleDep,
    PlatformDep,
    SessionDep,
)
from webhost.control.deployments import export, plan_change, reshape
from webhost.control.deployments import service as deployments
from webhost.control.moves import service as moves
from webhost.control.signup.schemas import SignupIn
from webhost.control.signup.service import sign_up
from webhost.errors import NotFound, Unauthorized, WebHostError

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

FormText = Annotated[str, Form()]
CsrfChecked = [Depends(require_csrf)]
STATUS_FRAGMENT = "partials/deployment_status.html"


@router.get("/")
async def landing(request: Request, session: SessionDep, account: MaybeAccountDep) -> Response:
    if account is not None:
        return redirect(request, home_of(account))
    return render(request, "landing.html", {"plans": await views.public_plans(session)})


@router.get("/signup")
async def signup_form(
    request: Request, session: SessionDep, account: MaybeAccountDep, plan: str = ""
) -> Response:
    if account is not None:
        return redirect(request, home_of(account))
    return await _signup_page(request, session, {"plan": plan})


async def _signup_page(
    request: Request,
    session: SessionDep,
    form: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    plans = [plan for plan in await views.public_plans(session) if views.open_for_signup(plan)]
    if not form.get("plan") and plans:
        form["plan"] = plans[0].slug
    return render(
        request,
        "signup.html",
        {"plans": plans, "form": form, "error": error},
        status_code=status_code,
    )


@router.post("/signup", dependencies=CsrfChecked)
async def signup(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    email: FormText = "",
    password: FormText = "",
    name: FormText = "",
    organization: FormText = "",
    plan: FormText = "",
) -> Response:
    form = {"email": email, "name": name, "organization": organization, "plan": plan}
    try:
        created = await sign_up(
            session,
            platform.passwords,
            SignupIn(**form, password=password),
            provider=platform.providers.default_name,
            stripe=platform.billing.api if platform.billing else None,
            return_url=f"{platform.settings.control_url}/dashboard",
        )
    except (ValidationError, WebHostError) as error:
        await session.rollback()
        status_code, message, headers = problem_of(error)
        page = await _signup_page(request, session, form, error=message, status_code=status_code)
        page.headers.update(headers)
        return page
    return logged_in_redirect(request, created.session, created.checkout_url or "/dashboard")


@router.get("/login")
async def login_form(request: Request, account: MaybeAccountDep) -> Response:
    if account is not None:
        return redirect(request, home_of(account))
    return render(request, "login.html", {"form": {}})


@router.post("/login", dependencies=CsrfChecked)
async def login(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    throttle: LoginThrottleDep,
    address: ClientAddressDep,
    email: FormText = "",
    password: FormText = "",
) -> Response:
    try:
        body = LoginIn(email=email, password=password)
        issued = await accounts.login(
            session, platform.passwords, throttle, body.email, body.password, address=address
        )
        account = await accounts.authenticate_session(session, issued.token)
    except (ValidationError, WebHostError) as error:
        await session.rollback()
        status_code, message, headers = problem_of(error)
        return render(
            request,
            "login.html",
            {"form": {"email": email}, "error": message},
            status_code=status_code,
            headers=headers,
        )
    return logged_in_redirect(request, issued, home_of(account))


@router.post("/logout", dependencies=CsrfChecked)
async def logout(request: Request, session: SessionDep) -> Response:
    token = session_token(request)
    if token is not None:
        await accounts.logout(session, token)
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response


@router.get("/login/once/{token}")
async def one_time_login(token: str, request: Request, session: SessionDep) -> Response:
    """The link `webhost up` prints: it works once, then it is dead."""
    try:
        issued = await accounts.redeem_one_time_login(session, token)
    except Unauthorized:
        return render(request, "login_link_expired.html", status_code=401)
    account = await accounts.authenticate_session(session, issued.token)
    return logged_in_redirect(request, issued, home_of(account))


@router.get("/dashboard")
async def dashboard(
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
    organization_id: str = "",
) -> Response:
    chosen = views.parse_organization_id(organization_id)
    page = await views.organization_page(session, platform, account, chosen)
    if page is None and account.is_operator:
        return redirect(request, "/operator")
    return render(request, "dashboard.html", {"account": account, "page": page})


@router.post("/dashboard/deployments/{deployment_id}/plan", dependencies=CsrfChecked)
async def change_plan(
    deployment_id: uuid.UUID,
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
    plan: FormText = "",
    confirm_trim: FormText = "",
) -> Response:
    deployment = await deployments.visible_deployment(session, account, deployment_id)
    organization_id = deployment.organization_id
    try:
        await plan_change.change_plan(
            session,
            platform.providers,
            platform.billing.api if platform.billing else None,
            deployment,
            plan_change.PlanChange(plan, confirm_trim=confirm_trim == "true"),
        )
    except WebHostError as error:  # refused before anything changed
        status_code, message, _ = problem_of(error)
        page = await views.organization_page(session, platform, account, organization_id)
        context = {
            "account": account,
            "page": page,
            "plan_error": message,
            "plan_error_deployment": str(deployment_id),
        }
        return render(request, "dashboard.html", context, status_code=status_code)
    return redirect(request, f"/dashboard?organization_id={organization_id}")


@router.post("/dashboard/billing/portal", dependencies=CsrfChecked)
async def billing_portal(
    request: Request, account: BrowserAccountDep, session: SessionDep, platform: PlatformDep
) -> Response:
    """Off to Stripe's customer portal (payment methods, invoices, cancellation)."""
    if platform.billing is None:
        raise NotFound("billing through Stripe is not configured on this installation")
    url = await billing.portal_url(
        session,
        platform.billing.api,
        account,
        return_url=f"{platform.settings.control_url}/dashboard",
    )
    return RedirectResponse(url, status_code=303)


@router.get("/dashboard/deployments/{deployment_id}/status")
async def deployment_status(
    deployment_id: uuid.UUID,
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
) -> Response:
    state = await views.deployment_state(session, platform, account, deployment_id)
    return render(request, STATUS_FRAGMENT, {"deployment": state})


@router.get("/dashboard/deployments/{deployment_id}/export")
async def export_deployment(
    deployment_id: uuid.UUID, account: BrowserAccountDep, session: SessionDep, platform: PlatformDep
) -> StreamingResponse:
    """The API's export (``GET /api/deployments/{id}/export``) for the signed-in browser."""
    deployment = await deployments.visible_deployment(session, account, deployment_id)
    lines = await export.export_lines(session, platform.providers, deployment)
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{export.filename(deployment)}"'},
    )


@router.get("/dashboard/deployments/{deployment_id}/events")
async def deployment_status_events(
    deployment_id: uuid.UUID,
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
) -> StreamingResponse:
    """``text/event-stream`` of the status fragment, sent whenever the deployment changes."""
    await views.deployment_state(session, platform, account, deployment_id)
    token = session_token(request)
    if token is None:
        raise LoginRequired
    stream = deployment_events(
        request,
        platform,
        token,
        deployment_id,
        lambda state: render_fragment(STATUS_FRAGMENT, deployment=state),
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        # proxies must pass events through as they come
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/operator/deployments/{deployment_id}/retry", dependencies=CsrfChecked)
async def retry_deployment(
    deployment_id: uuid.UUID, request: Request, _operator: BrowserOperatorDep, session: SessionDep
) -> Response:
    """A failed provisioning starts over as a new run (the failed one was compensated)."""
    await deployments.retry_provisioning(session, deployment_id)
    return redirect(request, "/operator")


@router.post("/operator/deployments/{deployment_id}/move/retry", dependencies=CsrfChecked)
async def retry_move(
    deployment_id: uuid.UUID,
    request: Request,
    operator: BrowserOperatorDep,
    session: SessionDep,
    platform: PlatformDep,
) -> Response:
    """The plan change whose move was rolled back, asked for again."""
    deployment = await deployments.visible_deployment(session, operator, deployment_id)
    billing_api = platform.billing.api if platform.billing else None
    await plan_change.retry_move(session, platform.providers, billing_api, deployment)
    return redirect(request, "/operator")


@router.post("/operator/deployments/{deployment_id}/reshape/retry", dependencies=CsrfChecked)
async def retry_reshape(
    deployment_id: uuid.UUID, request: Request, operator: BrowserOperatorDep, session: SessionDep
) -> Response:
    """The servers of the deployment's plan, asked for again after that failed for good."""
    deployment = await deployments.visible_deployment(session, operator, deployment_id)
    await reshape.retry(session, deployment)
    return redirect(request, "/operator")


@router.post("/operator/deployments/{deployment_id}/old-copy/removal", dependencies=CsrfChecked)
async def remove_old_copy(
    deployment_id: uuid.UUID, request: Request, operator: BrowserOperatorDep, session: SessionDep
) -> Response:
    """The move is known good: its old copy goes now rather than at the safety window's end."""
    deployment = await deployments.visible_deployment(session, operator, deployment_id)
    await moves.remove_old_copy_now(session, deployment)
    return redirect(request, "/operator")


@router.get("/operator")
async def operator(request: Request, account: BrowserOperatorDep, session: SessionDep) -> Response:
    page = await views.operator_page(session)
    return render(request, "operator.html", {"account": account, "page": page})
