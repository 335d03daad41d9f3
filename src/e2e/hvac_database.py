"""Dynamic database credentials and leases through Debian's python3-hvac (0.11.2), unchanged.

Run by src/e2e/database.test.ts with COFFER_URL, COFFER_ROOT_TOKEN and COFFER_PG_URL set, after
the CLI test has enabled the database engine. Mirrors the source article's Python example
(get_database_credentials). Every check prints one line; the first failure raises.
"""
import os
import sys

import hvac
from hvac import exceptions

client = hvac.Client(url=os.environ["COFFER_URL"], token=os.environ["COFFER_ROOT_TOKEN"])
checks = 0


def check(what, cond):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1
    print("ok", what)


def gone(what, lease_id):
    """The lease is no longer found: read_lease answers 400 "invalid lease"."""
    try:
        client.sys.read_lease(lease_id=lease_id)
    except exceptions.InvalidRequest as e:
        check(what, "invalid lease" in str(e))
        return
    raise AssertionError("%s: the lease is still found" % what)


client.secrets.database.configure(
    name="hvac-postgres",
    plugin_name="postgresql-database-plugin",
    allowed_roles=["app-hvac"],
    connection_url=os.environ["COFFER_PG_URL"],
    username="postgres",
    password="unused-by-trust",
)
client.secrets.database.create_role(
    name="app-hvac",
    db_name="hvac-postgres",
    creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
    default_ttl="1h",
    max_ttl="24h",
)
check("the role reads back", client.secrets.database.read_role(name="app-hvac")["data"]["db_name"] == "hvac-postgres")

# The article's get_database_credentials().
response = client.secrets.database.generate_credentials(name="app-hvac", mount_point="database")
creds = {
    "username": response["data"]["username"],
    "password": response["data"]["password"],
    "lease_id": response["lease_id"],
    "lease_duration": response["lease_duration"],
}
check("credentials have a username and password", creds["username"].startswith("v-root-app-hvac-") and len(creds["password"]) == 20)
check("the lease is named after the path", creds["lease_id"].startswith("database/creds/app-hvac/"))
check("the lease lasts the role's default TTL", creds["lease_duration"] == 3600)

lease = client.sys.read_lease(lease_id=creds["lease_id"])
check("read_lease finds it", lease["data"]["id"] == creds["lease_id"] and lease["data"]["renewable"] is True)
listed = client.sys.list_leases(prefix="database/creds/app-hvac")
check("list_leases lists it", creds["lease_id"].rsplit("/", 1)[1] in listed["data"]["keys"])
renewed = client.sys.renew_lease(lease_id=creds["lease_id"], increment=7200)
check("renew_lease extends it", renewed["lease_id"] == creds["lease_id"] and renewed["lease_duration"] == 7200)
default_renew = client.sys.renew_lease(lease_id=creds["lease_id"])
check("renew_lease without an increment takes the role's TTL", default_renew["lease_duration"] == 3600)
client.sys.revoke_lease(lease_id=creds["lease_id"])
gone("a revoked lease is gone", creds["lease_id"])

second = client.secrets.database.generate_credentials(name="app-hvac")
client.sys.revoke_prefix(prefix="database/creds/app-hvac")
gone("revoke_prefix revokes under the prefix", second["lease_id"])
third = client.secrets.database.generate_credentials(name="app-hvac")
client.sys.revoke_force(prefix="database/creds/app-hvac")
gone("revoke_force removes under the prefix", third["lease_id"])

print("%d checks passed" % checks)
sys.exit(0)
