"""A data plane brings the schemas of the tenants it serves up to date when it starts."""

from __future__ import annotations

from tests.data.yjs.peers import WirePeer
from tests.data.yjs.planes import StartPlane
from tests.data.yjs.storage import read_stored
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.db import migrate
from webhost.db.admin import quote_ident
from webhost.db.urls import PostgresURL


def test_a_tenant_from_before_an_upgrade_is_migrated_when_its_plane_starts(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    schema = quote_ident(tenant.tenant.name)
    # as a tenant provisioned by the release before group commit's function existed
    query(dataplane_database, f"DROP FUNCTION {schema}.append_yjs_updates(text[], bytea[])")
    query(dataplane_database, f"DROP FUNCTION {schema}._collections_changed() CASCADE")
    query(dataplane_database, f"UPDATE {schema}.alembic_version SET version_num = '0001'")

    plane = start_plane()

    versions = query(dataplane_database, f"SELECT version_num FROM {schema}.alembic_version")
    assert versions == [(migrate.head(migrate.TENANT),)]
    with WirePeer.connect(plane.ws_url, "after-upgrade", tenant.api_key).wait_synced() as peer:
        peer.insert("stored through the new function")
        with WirePeer.connect(plane.ws_url, "after-upgrade", tenant.api_key) as reader:
            reader.wait_synced().wait_text("stored through the new function")
    assert read_stored(dataplane_database, tenant.tenant, "after-upgrade").text.startswith("stored")
