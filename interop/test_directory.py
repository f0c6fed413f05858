"""The directory's UserHub-compatible Admin API (/admin/v1/users) driven by UserHub's own Python SDK, `userhub-sdk`
0.8.2, unmodified: `userhub_sdk.AdminApi(key, base_url=<Tessera>)`, on SQLite and on PostgreSQL (a fresh database on
TESSERA_TEST_POSTGRES_URL's server; skipped when that variable is unset).

Each store gets three servers of this module's own, all started with `--apply` of a tenant file whose
`directory.api_keys` holds an admin key and an `integration: auth0` key: `directory` for the tests that create users of
their own (each names its users uniquely), `population` with exactly 45 users, for the list tests, which count
everyone, and `linked`, whose directory has connections to its own Management API (`domain` http://127.0.0.1:<port>):
an M2M application with a `read:users` grant made through that API (auth0-python), users made there too, then
imported with `import_account`, refreshed with `report_event(wait=True)` and brought in by full passes (`:sync`).

Lists default to the BASIC view (`"view": "BASIC"`, no `accountConnections`); a single user (get, create, update) is
FULL. The list tests compare what they list with what create and get returned through `basic()`, exactly.

Every HTTP exchange the SDK makes is recorded (at httpcore, beneath the SDK): none may be a 5xx or a 429 (the SDK would
retry those, slowly and silently) and none may take 5 s or more.
"""
import contextlib
import dataclasses
import datetime
import json
import os
import random
import re
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass

import httpcore
import httpx
import pytest
import requests
import userhub_sdk
from auth0.management import ManagementClient
from userhub_sdk import Code, adminv1, commonv1
from userhub_sdk.types import UserHubError

from conftest import TIMEOUT, postgres_database, remember_secret, start_tessera, stop_tessera

SLOW_SECONDS = 5.0
USER_ID = re.compile(r"^usr_[A-Za-z0-9_-]{14}$")
UTC = datetime.timezone.utc
PARIS_SUMMER = datetime.timezone(datetime.timedelta(hours=2))
POPULATION = 45


# ---------------------------------------------------------------------------------------------------- the servers

@dataclass
class Directory:
    kind: str  # "sqlite" or "postgres"
    base_url: str  # http://127.0.0.1:PORT, no trailing slash: the SDK appends "/admin/v1/..."
    admin_key: str
    auth0_key: str
    data_dir: str  # holds admin-client.json, the Management API's bootstrap credentials
    store: list = None  # how the CLI opens the same store: ["--data-dir", D] (+ ["--database", URL] on PostgreSQL)
    env: dict = None  # the server's environment (the master key on PostgreSQL)

    def api(self, key: str = None) -> userhub_sdk.AdminApi:
        return userhub_sdk.AdminApi(key or self.admin_key, base_url=self.base_url)

    @property
    def admin(self):
        return self.api().users

    @property
    def auth0(self):
        return self.api(self.auth0_key).users


def _serve(kind: str):
    """A Tessera server on `kind`'s store with an admin key and an auth0 key from a tenant file (`serve --apply`)."""
    admin_key = "userhub_admin_" + secrets.token_urlsafe(32)
    auth0_key = "userhub_admin_" + secrets.token_urlsafe(32)
    remember_secret(admin_key, auth0_key)
    folder = tempfile.mkdtemp(prefix="tessera-directory-tenant-")
    tenant = os.path.join(folder, "tenant.yaml")
    with open(tenant, "w") as handle:
        handle.write("directory:\n"
                     "  api_keys:\n"
                     f'    - {{ description: interop, key: "{admin_key}" }}\n'
                     f'    - {{ description: auth0 action, key: "{auth0_key}", integration: auth0 }}\n')
    env = dict(os.environ)
    env.pop("TESSERA_MASTER_KEY", None)
    with contextlib.ExitStack() as stack:
        args = ["--apply", tenant]
        database_url = None
        if kind == "postgres":
            database_url = stack.enter_context(postgres_database("directory_interop_"))
            args += ["--database", database_url]
            # PostgreSQL requires a master key (every instance reads the signing keys from the database).
            env["TESSERA_MASTER_KEY"] = "directory-master-key-" + secrets.token_urlsafe(24)
            remember_secret(env["TESSERA_MASTER_KEY"])
        try:
            running = start_tessera(*args, env=env, prefix=f"tessera-directory-{kind}-")
        finally:
            os.remove(tenant)
            os.rmdir(folder)
        try:
            store = ["--data-dir", running.data_dir] + (["--database", database_url] if database_url else [])
            yield Directory(kind, running.base.rstrip("/"), admin_key, auth0_key, running.data_dir, store, env)
        finally:
            stop_tessera(running)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def kind(request):
    if request.param == "postgres" and not os.environ.get("TESSERA_TEST_POSTGRES_URL"):
        pytest.skip("TESSERA_TEST_POSTGRES_URL is not set")
    return request.param


@pytest.fixture(scope="module")
def directory(kind):
    yield from _serve(kind)


@dataclass
class Population:
    directory: Directory
    users: list  # the 45 adminv1.User as created, in creation order


def _member(index: int) -> dict:
    """User `index` of the population: display names "Member 00".."Member 44"; emails user0..user44, every third one
    in mixed case (filters and orders are case-insensitive)."""
    email = f"user{index}@example.com" if index % 3 else f"User{index}@Example.COM"
    return {"display_name": f"Member {index:02d}", "email": email, "unique_id": f"member-{index:02d}"}


@pytest.fixture(scope="module")
def population(kind):
    for found in _serve(kind):
        order = list(range(POPULATION))
        random.Random(45).shuffle(order)  # created out of every order the tests list in
        created = {index: found.admin.create(**_member(index)) for index in order}
        yield Population(found, [created[index] for index in range(POPULATION)])


# ---------------------------------------------------------------------------------------------------- every exchange

@pytest.fixture(autouse=True)
def exchanges(monkeypatch):
    """Every request the SDK sends (beneath it, at httpcore): no 5xx, no 429, none as slow as 5 s."""
    seen = []
    original = httpcore.ConnectionPool.request

    def request(pool, method, url, **kwargs):
        started = time.monotonic()
        response = original(pool, method, url, **kwargs)
        seen.append((method.decode() if isinstance(method, bytes) else method,
                     url.decode() if isinstance(url, bytes) else str(url), response.status,
                     round(time.monotonic() - started, 3), response.content[:300]))
        return response

    monkeypatch.setattr(httpcore.ConnectionPool, "request", request)
    yield seen
    assert seen, "no request went through httpcore.ConnectionPool.request: the recorder saw nothing"
    retried = [entry for entry in seen if entry[2] >= 500 or entry[2] == 429]
    assert not retried, f"answers the SDK retries: {retried}"
    slow = [entry for entry in seen if entry[3] >= SLOW_SECONDS]
    assert not slow, f"requests of {SLOW_SECONDS} s or more: {slow}"


# ---------------------------------------------------------------------------------------------------- helpers

def refused(call, *args, **kwargs) -> UserHubError:
    with pytest.raises(UserHubError) as raised:
        call(*args, **kwargs)
    return raised.value


def assert_error(error: UserHubError, code: Code, status: int, message: str, reason: str = None, param: str = None):
    assert (error.api_code, error.status_code, error.message, error.reason, error.param) == \
        (code, status, message, reason, param), str(error)


def tag() -> str:
    return uuid.uuid4().hex[:10]


def expected_user(created: adminv1.User, **fields) -> adminv1.User:
    """The user the API should show: the given fields, and the id and times it assigned."""
    return adminv1.User(id=created.id, create_time=created.create_time, update_time=created.update_time,
                        account_connections=[], memberships=[], view="FULL", **fields)


def basic(user: adminv1.User) -> adminv1.User:
    """A user as lists show it by default: the BASIC view, the same fields but no account connections (the SDK reads
    the missing `accountConnections` as an empty list; `test_list_views_in_the_json` checks the JSON itself)."""
    return dataclasses.replace(user, view="BASIC", account_connections=[])


def basics(users) -> list:
    return [basic(user) for user in users]


def raw(directory: Directory, method: str, path: str, body=None, key: str = None, timeout: float = TIMEOUT):
    """One Admin API exchange without the SDK (for what it has no call for: connections, the JSON itself)."""
    return requests.request(method, directory.base_url + "/admin/v1/" + path, json=body, timeout=timeout,
                            headers={"Authorization": f"Bearer {key or directory.admin_key}"})


def assert_fresh(user: adminv1.User):
    """A user the API has just made: a usr_ id, its times now, in UTC, equal."""
    assert USER_ID.match(user.id), user.id
    assert user.create_time == user.update_time
    assert user.create_time.tzinfo == UTC
    assert abs(datetime.datetime.now(UTC) - user.create_time) < datetime.timedelta(minutes=2), user.create_time


# ---------------------------------------------------------------------------------------------------- create, get

def test_create_with_every_field_then_get_by_id_and_by_unique_id(directory):
    unique_id = "ann_lee-" + tag()
    created = directory.admin.create(
        unique_id=unique_id, display_name="Ann Lee", email="Ann.Lee@Example.com", email_verified=True,
        phone_number="+12125550123", phone_number_verified=True, image_url="https://example.com/avatars/ann.png",
        currency_code="EUR", language_code="fr-CA", region_code="FR", time_zone="Europe/Paris",
        signup_time=datetime.datetime(2024, 5, 1, 10, 0, 0, tzinfo=PARIS_SUMMER), disabled=True)
    assert_fresh(created)
    assert created == expected_user(
        created, state="DISABLED", unique_id=unique_id, display_name="Ann Lee", email="Ann.Lee@Example.com",
        email_verified=True, phone_number="+12125550123", phone_number_verified=True,
        image_url="https://example.com/avatars/ann.png", currency_code="EUR", language_code="fr-CA", region_code="FR",
        time_zone="Europe/Paris", signup_time=datetime.datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC), disabled=True)
    assert directory.admin.get(created.id) == created
    assert directory.admin.get(unique_id) == created


def test_create_with_no_field_is_an_active_user(directory):
    created = directory.admin.create()
    assert_fresh(created)
    assert created == expected_user(created, state="ACTIVE", disabled=False)
    assert directory.admin.get(created.id) == created


def test_create_and_update_with_an_address(directory):
    address = commonv1.Address(lines=["1 Rue de Rivoli", "Bat. B"], city="Paris", state="Ile-de-France",
                               postal_code="75001", country="FR")
    created = directory.admin.create(unique_id="addressed-" + tag(), display_name="Addressed", address=address)
    assert created.address == address
    assert directory.admin.get(created.id).address == address
    moved = commonv1.Address(lines=["10 Downing St"], city="London", postal_code="SW1A 2AA", country="GB")
    assert directory.admin.update(created.id, address=moved).address == moved
    assert directory.admin.update(created.id, address=None).address is None


def test_create_refuses_a_taken_unique_id(directory):
    unique_id = "taken-" + tag()
    directory.admin.create(unique_id=unique_id)
    assert_error(refused(directory.admin.create, unique_id=unique_id, display_name="Second"),
                 Code.ALREADY_EXISTS, 409, f"A user with uniqueId {unique_id} already exists",
                 reason="USER_ALREADY_EXISTS", param="uniqueId")


def test_get_an_unknown_user_is_not_found(directory):
    assert_error(refused(directory.admin.get, "usr_00000000000000"), Code.NOT_FOUND, 404,
                 "User not found: usr_00000000000000", reason="USER_NOT_FOUND")
    assert_error(refused(directory.admin.get, "nobody-" + "x" * 8), Code.NOT_FOUND, 404,
                 "User not found: nobody-xxxxxxxx", reason="USER_NOT_FOUND")


# ---------------------------------------------------------------------------------------------------- update

def test_update_changes_only_what_it_names_and_none_clears(directory):
    unique_id = "bea-" + tag()
    created = directory.admin.create(
        unique_id=unique_id, display_name="Bea", email="bea@example.com", phone_number="+442071838750",
        language_code="en", time_zone="Europe/London", currency_code="GBP", disabled=True)
    updated = directory.admin.update(created.id, display_name="Beatrice", phone_number=None, time_zone=None,
                                     disabled=None, email_verified=True, region_code="GB")
    assert updated.update_time >= created.update_time
    assert updated == adminv1.User(
        id=created.id, state="ACTIVE", unique_id=unique_id, display_name="Beatrice", email="bea@example.com",
        email_verified=True, language_code="en", currency_code="GBP", region_code="GB", disabled=False,
        account_connections=[], memberships=[], view="FULL", create_time=created.create_time,
        update_time=updated.update_time)
    assert directory.admin.get(unique_id) == updated
    # By uniqueId, the uniqueId itself changes: the old one then names no one.
    renamed_id = "beatrice-" + tag()
    renamed = directory.admin.update(unique_id, unique_id=renamed_id, disabled=True)
    assert (renamed.id, renamed.unique_id, renamed.state, renamed.disabled, renamed.display_name) == \
        (created.id, renamed_id, "DISABLED", True, "Beatrice")
    assert directory.admin.get(renamed_id) == renamed
    assert_error(refused(directory.admin.get, unique_id), Code.NOT_FOUND, 404, f"User not found: {unique_id}",
                 reason="USER_NOT_FOUND")
    # Clearing the uniqueId leaves the user reachable by its id only.
    cleared = directory.admin.update(created.id, unique_id=None)
    assert cleared.unique_id is None and cleared.id == created.id
    assert directory.admin.get(created.id) == cleared


def test_update_with_allow_missing_upserts_by_unique_id(directory):
    unique_id = "carol-" + tag()
    # Without allow_missing a uniqueId that names no one is not found, and nothing is made.
    assert_error(refused(directory.admin.update, unique_id, display_name="Carol"), Code.NOT_FOUND, 404,
                 f"User not found: {unique_id}", reason="USER_NOT_FOUND")
    upserted = directory.admin.update(unique_id, display_name="Carol", email="carol@example.com", allow_missing=True)
    assert_fresh(upserted)
    assert upserted == expected_user(upserted, state="ACTIVE", unique_id=unique_id, display_name="Carol",
                                     email="carol@example.com", disabled=False)
    # Again: the same user, updated.
    again = directory.admin.update(unique_id, email="carol@example.org", language_code="de", allow_missing=True)
    assert again == adminv1.User(
        id=upserted.id, state="ACTIVE", unique_id=unique_id, display_name="Carol", email="carol@example.org",
        language_code="de", disabled=False, account_connections=[], memberships=[], view="FULL",
        create_time=upserted.create_time, update_time=again.update_time)
    assert directory.admin.get(unique_id) == again
    # An id of UserHub's own cannot be made up.
    assert_error(refused(directory.admin.update, "usr_00000000000000", display_name="X", allow_missing=True),
                 Code.INVALID_ARGUMENT, 400, "allowMissing needs the user's uniqueId as the identifier", param="userId")


# ---------------------------------------------------------------------------------------------------- delete

def test_delete_undelete_purge(directory):
    unique_id = "dora-" + tag()
    created = directory.admin.create(unique_id=unique_id, display_name="Dora", email="dora@example.com")
    # Only a deleted user is purged.
    assert_error(refused(directory.admin.purge, created.id), Code.FAILED_PRECONDITION, 400,
                 "The user must be deleted before it is purged", reason="USER_NOT_DELETED")
    deleted = directory.admin.delete(created.id)
    assert deleted == adminv1.User(
        id=created.id, state="PENDING_DELETION", unique_id=unique_id, display_name="Dora", email="dora@example.com",
        disabled=False, account_connections=[], memberships=[], view="FULL", create_time=created.create_time,
        update_time=deleted.update_time)
    assert deleted.update_time >= created.update_time
    assert directory.admin.get(unique_id) == deleted
    assert_error(refused(directory.admin.update, created.id, display_name="Dot"), Code.FAILED_PRECONDITION, 400,
                 "The user is pending deletion", reason="USER_PENDING_DELETION")
    assert_error(refused(directory.admin.delete, created.id), Code.FAILED_PRECONDITION, 400,
                 "The user is pending deletion", reason="USER_PENDING_DELETION")
    # Undeleted: as it was.
    restored = directory.admin.undelete(unique_id)
    assert restored == adminv1.User(
        id=created.id, state="ACTIVE", unique_id=unique_id, display_name="Dora", email="dora@example.com",
        disabled=False, account_connections=[], memberships=[], view="FULL", create_time=created.create_time,
        update_time=restored.update_time)
    assert_error(refused(directory.admin.undelete, created.id), Code.FAILED_PRECONDITION, 400,
                 "The user is not deleted", reason="USER_NOT_DELETED")
    # Deleted again, then purged: gone for good, by id and by uniqueId, and its uniqueId is free again.
    assert directory.admin.delete(unique_id).state == "PENDING_DELETION"
    assert directory.admin.purge(created.id) == adminv1.PurgeUserResponse()
    assert_error(refused(directory.admin.get, created.id), Code.NOT_FOUND, 404, f"User not found: {created.id}",
                 reason="USER_NOT_FOUND")
    assert_error(refused(directory.admin.get, unique_id), Code.NOT_FOUND, 404, f"User not found: {unique_id}",
                 reason="USER_NOT_FOUND")
    assert_error(refused(directory.admin.purge, created.id), Code.NOT_FOUND, 404, f"User not found: {created.id}",
                 reason="USER_NOT_FOUND")
    reborn = directory.admin.create(unique_id=unique_id)
    assert reborn.id != created.id and reborn.unique_id == unique_id


def test_list_hides_deleted_users_unless_show_deleted(directory):
    name = "Hidden " + tag()
    kept = directory.admin.create(display_name=name + " A")
    gone = directory.admin.create(display_name=name + " B")
    gone = directory.admin.delete(gone.id)
    listed = directory.admin.list(display_name=name.lower() + "*")
    assert listed == adminv1.ListUsersResponse(users=[basic(kept)])
    everyone = directory.admin.list(display_name=name.upper() + "*", show_deleted=True)
    assert everyone == adminv1.ListUsersResponse(users=[basic(kept), basic(gone)])
    assert directory.admin.list(display_name=name.upper() + "*", show_deleted=True, view="FULL") == \
        adminv1.ListUsersResponse(users=[kept, gone])
    assert [user.state for user in everyone.users] == ["ACTIVE", "PENDING_DELETION"]
    # Undeleted, it is listed again.
    directory.admin.undelete(gone.id)
    assert [user.id for user in directory.admin.list(display_name=name + "*").users] == [kept.id, gone.id]


# ---------------------------------------------------------------------------------------------------- list

def test_list_pages_through_45_users_20_at_a_time(population):
    users = population.directory.admin
    pages, token = [], None
    while True:
        page = users.list(page_size=20, page_token=token)
        pages.append(page.users)
        token = page.next_page_token
        if not token or len(pages) > 5:
            break
    assert [len(page) for page in pages] == [20, 20, 5]
    assert token is None
    # The default order is displayName ascending; each user is as created.
    assert [user for page in pages for user in page] == basics(population.users)
    assert [user.display_name for user in pages[1]] == [f"Member {index:02d}" for index in range(20, 40)]


def test_list_gives_previous_page_tokens(population):
    users = population.directory.admin
    first = users.list(page_size=20)
    second = users.list(page_size=20, page_token=first.next_page_token)
    third = users.list(page_size=20, page_token=second.next_page_token)
    # UserHub's previousPageToken: absent on the first page, "" when the previous page is the first (the SDK then
    # sends no pageToken at all), else a token for the previous page.
    assert first.previous_page_token is None
    assert second.previous_page_token == ""
    assert third.previous_page_token
    assert users.list(page_size=20, page_token=second.previous_page_token) == first
    back = users.list(page_size=20, page_token=third.previous_page_token)
    assert back.users == second.users == basics(population.users[20:40])
    assert back.previous_page_token == ""
    assert users.list(page_size=20, page_token=back.next_page_token).users == third.users


def test_list_walks_back_from_the_last_page_to_the_first(population):
    # By email, filtered, in the FULL view, pages of 4: forward to the end, then back by previousPageToken alone.
    users = population.directory.admin
    query = dict(email="user2*", order_by="email asc", page_size=4, view="FULL")
    expected = sorted((user for user in population.users if user.email.lower().startswith("user2")),
                      key=lambda user: user.email.lower())
    assert len(expected) == 11  # user2, user20..user29
    forward = [users.list(**query)]
    while forward[-1].next_page_token and len(forward) < 5:
        forward.append(users.list(**query, page_token=forward[-1].next_page_token))
    assert [page.users for page in forward] == [expected[0:4], expected[4:8], expected[8:11]]
    assert forward[-1].next_page_token is None
    backward = [forward[-1]]
    while backward[-1].previous_page_token is not None and len(backward) < 5:
        # "" (the previous page is the first) makes the SDK send no pageToken: the first page.
        backward.append(users.list(**query, page_token=backward[-1].previous_page_token))
    assert [page.previous_page_token for page in backward] == [forward[-1].previous_page_token, "", None]
    assert [page.users for page in reversed(backward)] == [expected[0:4], expected[4:8], expected[8:11]]
    assert backward[1].next_page_token and backward[2] == forward[0]
    # A previous-page token is bound to its query like a next-page token.
    assert_error(refused(users.list, email="user2*", page_size=4, page_token=forward[-1].previous_page_token),
                 Code.INVALID_ARGUMENT, 400, "The page token was made for other parameters: keep them as they were",
                 param="pageToken")


def test_list_views_in_the_json(population):
    # What the SDK cannot show: BASIC users have no accountConnections key at all; FULL ones are get's JSON exactly.
    directory = population.directory
    listed = raw(directory, "GET", "users?pageSize=100")
    full = raw(directory, "GET", "users?pageSize=100&view=FULL")
    assert listed.status_code == 200 and full.status_code == 200, (listed.text, full.text)
    singles = [raw(directory, "GET", "users/" + user.id).json() for user in population.users]
    assert [single["view"] for single in singles] == ["FULL"] * POPULATION
    assert [single["accountConnections"] for single in singles] == [[]] * POPULATION
    assert full.json() == {"users": singles}
    assert listed.json() == {"users": [
        {**{name: value for name, value in single.items() if name != "accountConnections"}, "view": "BASIC"}
        for single in singles]}
    assert_error(refused(directory.admin.list, view="COMPACT"), Code.INVALID_ARGUMENT, 400,
                 "view must be BASIC or FULL", param="view")


def test_list_default_page_is_20_and_page_size_100_holds_everyone(population):
    users = population.directory.admin
    first = users.list()
    assert first.users == basics(population.users[:20]) and first.next_page_token
    everyone = users.list(page_size=100)
    assert everyone == adminv1.ListUsersResponse(users=basics(population.users))
    assert users.list(page_size=100, view="BASIC") == everyone
    assert users.list(page_size=100, view="FULL") == adminv1.ListUsersResponse(users=population.users)


def test_list_filters_by_email_prefix(population):
    users = population.directory.admin
    # user1, user10..user19 (User12, User15, User18 in mixed case): by displayName, then by email.
    ones = [basic(population.users[index]) for index in [1] + list(range(10, 20))]
    assert users.list(email="user1*") == adminv1.ListUsersResponse(users=ones)
    by_email = users.list(email="USER1*", order_by="email asc")
    assert [user.email for user in by_email.users] == [
        "user10@example.com", "user11@example.com", "User12@Example.COM", "user13@example.com",
        "user14@example.com", "User15@Example.COM", "user16@example.com", "user17@example.com",
        "User18@Example.COM", "user19@example.com", "user1@example.com"]
    assert by_email.next_page_token is None
    # Paged with the filter: the token carries it.
    first = users.list(email="user1*", page_size=6)
    rest = users.list(email="user1*", page_size=6, page_token=first.next_page_token)
    assert first.users + rest.users == ones and rest.next_page_token is None
    # Exact (no *): case-insensitive, one user.
    assert users.list(email="USER3@EXAMPLE.COM").users == [basic(population.users[3])]
    assert users.list(email="user30@example.com", view="FULL").users == [population.users[30]]
    assert users.list(email="nobody@example.com") == adminv1.ListUsersResponse(users=[])


def test_list_filters_by_display_name(population):
    users = population.directory.admin
    assert users.list(display_name="Member 07") == adminv1.ListUsersResponse(users=[basic(population.users[7])])
    assert users.list(display_name="MEMBER 07", view="FULL").users == [population.users[7]]
    assert users.list(display_name="member 1*") == adminv1.ListUsersResponse(users=basics(population.users[10:20]))
    assert users.list(display_name="Member 4*", email="user4*").users == \
        [basic(population.users[index]) for index in range(40, 45)]
    assert users.list(display_name="Member 4*", email="user41*").users == [basic(population.users[41])]


def test_list_orders_by_email(population):
    users = population.directory.admin
    listed = users.list(order_by="email asc", page_size=100)
    expected = basics(sorted(population.users, key=lambda user: user.email.lower()))
    assert listed == adminv1.ListUsersResponse(users=expected)
    # "user10@" sorts before "user1@" ("0" < "@"), and case does not count.
    assert [user.email for user in listed.users[:13]] == [
        "User0@Example.COM", "user10@example.com", "user11@example.com", "User12@Example.COM", "user13@example.com",
        "user14@example.com", "User15@Example.COM", "user16@example.com", "user17@example.com", "User18@Example.COM",
        "user19@example.com", "user1@example.com", "user20@example.com"]
    # Paged by email: 20, 20, 5, the same order.
    first = users.list(order_by="email asc", page_size=20)
    second = users.list(order_by="email asc", page_size=20, page_token=first.next_page_token)
    third = users.list(order_by="email asc", page_size=20, page_token=second.next_page_token)
    assert first.users + second.users + third.users == expected and third.next_page_token is None
    # A token is bound to the query it came from.
    assert_error(refused(users.list, page_size=20, page_token=first.next_page_token), Code.INVALID_ARGUMENT, 400,
                 "The page token was made for other parameters: keep them as they were", param="pageToken")
    assert_error(refused(users.list, order_by="height asc"), Code.INVALID_ARGUMENT, 400,
                 "orderBy must be one of: displayName asc, email asc, signupTime desc, createTime desc, deleteTime desc",
                 param="orderBy")


# ---------------------------------------------------------------------------------------------------- keys, input

def test_a_bad_key_is_unauthenticated(directory):
    bad_key = "userhub_admin_" + secrets.token_urlsafe(32)
    remember_secret(bad_key)
    users = directory.api(bad_key).users
    for call, args in [(users.list, ()), (users.get, ("usr_00000000000000",)), (users.create, ())]:
        assert_error(refused(call, *args), Code.UNAUTHENTICATED, 401, "Invalid admin API key", reason="API_KEY_INVALID")


def test_an_auth0_integration_key_cannot_list_or_edit(directory):
    message = "This API key is limited to the auth0 integration's calls (:event, :import, :reportAction)"
    for call, args, kwargs in [(directory.auth0.list, (), {}), (directory.auth0.create, (), {"display_name": "X"}),
                               (directory.auth0.get, ("usr_00000000000000",), {}),
                               (directory.auth0.delete, ("usr_00000000000000",), {})]:
        assert_error(refused(call, *args, **kwargs), Code.PERMISSION_DENIED, 403, message,
                     reason="API_KEY_INTEGRATION_ONLY")


def test_invalid_fields_are_refused_with_their_param(directory):
    assert_error(refused(directory.admin.create, phone_number="555"), Code.INVALID_ARGUMENT, 400,
                 "phoneNumber must be an E.164 number such as +12125550123", param="phoneNumber")
    assert_error(refused(directory.admin.create, display_name="x" * 201), Code.INVALID_ARGUMENT, 400,
                 "displayName must be at most 200 characters", param="displayName")
    # 200 characters is the limit, not past it.
    longest = directory.admin.create(display_name="y" * 200)
    assert longest.display_name == "y" * 200
    # The same checks on update; the user is left as it was.
    assert_error(refused(directory.admin.update, longest.id, phone_number="555"), Code.INVALID_ARGUMENT, 400,
                 "phoneNumber must be an E.164 number such as +12125550123", param="phoneNumber")
    assert_error(refused(directory.admin.update, longest.id, display_name="z" * 201), Code.INVALID_ARGUMENT, 400,
                 "displayName must be at most 200 characters", param="displayName")
    assert directory.admin.get(longest.id) == longest
    assert_error(refused(directory.admin.create, unique_id="usr_mine"), Code.INVALID_ARGUMENT, 400,
                 "uniqueId must be 1 to 255 letters, digits, underscores or hyphens, starting with a letter or digit, "
                 "and not start with usr_ or conn_", param="uniqueId")
    assert_error(refused(directory.admin.list, email="us*"), Code.INVALID_ARGUMENT, 400,
                 "A prefix filter needs at least 3 characters before the trailing *", param="email")


def test_import_and_report_event_on_an_unknown_connection_are_not_found(directory):
    message = "Connection not found: conn_missing"
    for users in (directory.auth0, directory.admin):
        for error in (refused(users.import_account, "auth0|123@conn_missing"),
                      refused(users.report_event, "auth0|123@conn_missing"),
                      refused(users.report_event, "auth0|123@conn_missing", type="SIGNIN", wait=True)):
            assert error.status_code < 500
            assert_error(error, Code.NOT_FOUND, 404, message, reason="CONNECTION_NOT_FOUND")


def test_report_event_on_an_existing_user(directory):
    # A user of the directory's own (no account at any connection): nothing to pull, by id or by uniqueId.
    unique_id = "eve-" + tag()
    user = directory.admin.create(display_name="Eve " + tag(), unique_id=unique_id)
    assert directory.admin.report_event(user.id, type="CHANGED", wait=True) == adminv1.ReportUserEventResponse()
    assert directory.admin.report_event(unique_id, type="SIGNIN", wait=True) == adminv1.ReportUserEventResponse()
    assert directory.admin.report_event(unique_id) == adminv1.ReportUserEventResponse()
    assert directory.auth0.report_event(user.id, type="SIGNUP") == adminv1.ReportUserEventResponse()
    assert directory.admin.get(user.id) == user
    assert_error(refused(directory.admin.report_event, user.id, type="LOGIN"), Code.INVALID_ARGUMENT, 400,
                 "type must be CHANGED, SIGNIN or SIGNUP", param="type")
    missing = "nobody-" + tag()
    assert_error(refused(directory.admin.report_event, missing, wait=True), Code.NOT_FOUND, 404,
                 f"User not found: {missing}", reason="USER_NOT_FOUND")


# ---------------------------------------------------------------------------------------------------- addresses, times

def test_an_address_keeps_only_its_non_empty_parts(directory):
    # The SDK sends every part it holds: "" for a part set empty, [] for no lines. Neither is stored.
    sent = commonv1.Address(lines=[], city="Lyon", state="", postal_code="", country="FR")
    created = directory.admin.create(unique_id="lyon-" + tag(), address=sent)
    assert created.address == commonv1.Address(city="Lyon", country="FR")
    assert raw(directory, "GET", "users/" + created.id).json()["address"] == {"city": "Lyon", "country": "FR"}
    updated = directory.admin.update(created.id, address=commonv1.Address(lines=["2 Quai", "Apt 3"], city="",
                                                                          postal_code="69002"))
    assert updated.address == commonv1.Address(lines=["2 Quai", "Apt 3"], postal_code="69002")
    assert raw(directory, "GET", "users/" + created.id).json()["address"] == \
        {"lines": ["2 Quai", "Apt 3"], "postalCode": "69002"}
    assert_error(refused(directory.admin.update, created.id, address=commonv1.Address(lines=["x"] * 6)),
                 Code.INVALID_ARGUMENT, 400, "address.lines must be at most 5 strings of at most 200 characters",
                 param="address.lines")


def test_signup_time_keeps_its_milliseconds(directory):
    when = datetime.datetime(2024, 5, 1, 10, 0, 0, 188000, tzinfo=UTC)
    created = directory.admin.create(signup_time=when)
    assert created.signup_time == when


# ---------------------------------------------------------------------------------------------------- connections

class PlainHTTP(httpx.HTTPTransport):
    """auth0-python speaks https only: its requests go to the loopback server over http, unchanged otherwise."""

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http")
        return super().handle_request(request)


@dataclass
class Source:
    """A server's own Management API (auth0-python) and the M2M application a connection to it uses."""
    management: ManagementClient
    domain: str  # what a connection's auth0.domain names: http://127.0.0.1:PORT
    client_id: str
    client_secret: str


def management_client(base_url: str, data_dir: str) -> ManagementClient:
    """auth0-python's ManagementClient for the server at base_url, with a token of its bootstrap admin client."""
    with open(os.path.join(data_dir, "admin-client.json")) as handle:
        credentials = json.load(handle)
    response = requests.post(base_url + "/oauth/token", timeout=TIMEOUT, data={
        "grant_type": "client_credentials", "client_id": credentials["client_id"],
        "client_secret": credentials["client_secret"], "audience": base_url + "/api/v2/"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    remember_secret(credentials["client_secret"], token)
    return ManagementClient(domain=base_url.split("://", 1)[1], token=token,
                            httpx_client=httpx.Client(transport=PlainHTTP(), timeout=TIMEOUT))


def m2m_source(base_url: str, data_dir: str, scopes=("read:users",)) -> Source:
    """An M2M application with a grant for the server's Management API audience, made through that API."""
    management = management_client(base_url, data_dir)
    client = management.clients.create(name="Directory sync " + tag(), app_type="non_interactive")
    assert client.client_id and client.client_secret
    remember_secret(client.client_secret)
    if scopes:
        grant = management.client_grants.create(client_id=client.client_id, audience=base_url + "/api/v2/",
                                                scope=list(scopes))
        assert grant.scope == list(scopes)
    return Source(management, base_url, client.client_id, client.client_secret)


@pytest.fixture(scope="module")
def linked(kind):
    yield from _serve(kind)


@pytest.fixture(scope="module")
def source(linked):
    return m2m_source(linked.base_url, linked.data_dir)


def connect(directory: Directory, source: Source, connection_id: str = None, secret: str = None,
            display_name: str = "Self") -> dict:
    """POST /admin/v1/connections to the source's Management API; the answer, checked."""
    connection_id = connection_id or "conn_" + tag()
    response = raw(directory, "POST", "connections", {
        "id": connection_id, "displayName": display_name,
        "auth0": {"domain": source.domain, "clientId": source.client_id, "clientSecret": secret or source.client_secret}})
    assert response.status_code == 200, response.text
    connection = response.json()
    assert connection == {
        "id": connection_id, "displayName": display_name, "type": "AUTH0", "state": "PENDING_SETUP",
        "auth0": {"domain": source.domain, "clientId": source.client_id},
        "sync": {"running": False, "usersDone": 0},
        "createTime": connection["createTime"], "updateTime": connection["createTime"]}
    return connection


def sync(directory: Directory, connection_id: str) -> dict:
    response = raw(directory, "POST", f"connections/{connection_id}:sync", {"wait": True}, timeout=60)
    assert response.status_code == 200, response.text
    connection = response.json()
    assert connection["state"] == "ACTIVE" and connection["sync"]["running"] is False, connection
    assert "lastError" not in connection["sync"], connection
    return connection


def source_user(source: Source, name: str, **fields):
    user = source.management.users.create(connection="Username-Password-Authentication", name=name,
                                          email=f"{tag()}@linked.example.com", password="Passw0rd-Ok-" + tag(),
                                          **fields)
    assert user.user_id.startswith("auth0|")
    return user


def rfc3339(value) -> datetime.datetime:
    """auth0-python gives created_at as a datetime; plain JSON as RFC 3339 text."""
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_imported(user: adminv1.User, source_user, connection: dict, name: str = None, disabled: bool = False):
    """A directory user made from one source user of one connection, as UserHub shows it (FULL), exactly; the
    signupTime is the source's created_at."""
    name = name or source_user.name
    account = user.account_connections[0] if user.account_connections else None
    assert account is not None, user
    assert user.signup_time == rfc3339(source_user.created_at), (user.signup_time, source_user.created_at)
    assert user == adminv1.User(
        id=user.id, state="DISABLED" if disabled else "ACTIVE", display_name=name, email=source_user.email,
        email_verified=False, signup_time=user.signup_time, disabled=disabled, view="FULL", memberships=[],
        account_connections=[adminv1.AccountConnection(
            connection=adminv1.Connection(id=connection["id"], display_name=connection["displayName"], type="AUTH0",
                                          state=connection["state"]),
            external_id=source_user.user_id, state="ACTIVE", display_name=name, email=source_user.email,
            email_verified=False, create_time=account.create_time, update_time=account.update_time)],
        create_time=user.create_time, update_time=user.update_time)
    assert USER_ID.match(user.id), user.id


def test_connections_are_created_tested_listed_and_deleted(linked, source):
    created = connect(linked, source, display_name="Tessera itself")
    connection_id = created["id"]
    # The secret is never shown: not by create, get, list or :test.
    got = raw(linked, "GET", f"connections/{connection_id}")
    assert got.status_code == 200 and got.json() == created, got.text
    listed = raw(linked, "GET", "connections")
    assert listed.status_code == 200 and created in listed.json()["connections"], listed.text
    tested = raw(linked, "POST", f"connections/{connection_id}:test", {})
    assert tested.status_code == 200, tested.text
    assert tested.json() == {**created, "state": "ACTIVE", "updateTime": tested.json()["updateTime"]}
    for response in (created, got.text, listed.text, tested.text):
        assert source.client_secret not in json.dumps(response)
    # Saved again with the same settings but a new name: the state stays.
    renamed = raw(linked, "POST", "connections", {
        "id": connection_id, "displayName": "Renamed",
        "auth0": {"domain": source.domain, "clientId": source.client_id, "clientSecret": source.client_secret}})
    assert renamed.status_code == 200 and renamed.json()["displayName"] == "Renamed", renamed.text
    assert renamed.json()["state"] == "ACTIVE"
    # Refusals, each naming its field.
    for body, param, message in [
            ({"id": "mine", "auth0": {"domain": source.domain, "clientId": "a", "clientSecret": "b"}}, "id",
             "A connection id is conn_ followed by letters, digits, _ or -"),
            ({"auth0": {"domain": "ftp://example.com", "clientId": "a", "clientSecret": "b"}}, "domain",
             "domain must be an Auth0 domain (tenant.us.auth0.com) or a base URL such as http://127.0.0.1:8080"),
            ({"displayName": "No auth0"}, "auth0", "auth0 {domain, clientId, clientSecret} is required"),
            ({"auth0": {"domain": source.domain, "clientId": "a", "clientSecret": "b", "x": 1}}, "auth0.x",
             "Unknown field: auth0.x")]:
        refusal = raw(linked, "POST", "connections", body)
        assert (refusal.status_code, refusal.json()) == \
            (400, {"code": "INVALID_ARGUMENT", "message": message, "param": param}), refusal.text
    refusal = raw(linked, "POST", f"connections/{connection_id}:sync", {"wait": True, "now": True})
    assert (refusal.status_code, refusal.json()) == \
        (400, {"code": "INVALID_ARGUMENT", "message": "Unknown field: now", "param": "now"})
    # The Auth0-scoped key cannot touch connections.
    refusal = raw(linked, "GET", "connections", key=linked.auth0_key)
    assert refusal.status_code == 403 and refusal.json()["reason"] == "API_KEY_INTEGRATION_ONLY", refusal.text
    # Deleted: gone, and naming it is a missing connection.
    deleted = raw(linked, "DELETE", f"connections/{connection_id}")
    assert (deleted.status_code, deleted.json()) == (200, {}), deleted.text
    missing = raw(linked, "GET", f"connections/{connection_id}")
    assert (missing.status_code, missing.json()) == (404, {
        "code": "NOT_FOUND", "message": f"Connection not found: {connection_id}", "reason": "CONNECTION_NOT_FOUND"})
    assert created["id"] not in [found["id"] for found in raw(linked, "GET", "connections").json()["connections"]]
    assert_error(refused(linked.admin.import_account, f"auth0|1@{connection_id}"), Code.NOT_FOUND, 404,
                 f"Connection not found: {connection_id}", reason="CONNECTION_NOT_FOUND")


def test_a_connection_without_a_grant_fails_its_test(linked):
    ungranted = m2m_source(linked.base_url, linked.data_dir, scopes=())
    created = connect(linked, ungranted)
    connection_id = created["id"]
    reason = (f'{linked.base_url} refused the client-credentials grant with 403: Client is not authorized to access '
              f'"{linked.base_url}/api/v2/". You need to create a "client-grant" associated to this API.')
    tested = raw(linked, "POST", f"connections/{connection_id}:test", {}, timeout=30)
    assert tested.status_code == 200, tested.text
    assert tested.json() == {**created, "state": "FAILED", "stateReason": reason,
                             "updateTime": tested.json()["updateTime"]}
    assert_error(refused(linked.admin.import_account, f"auth0|1@{connection_id}"), Code.FAILED_PRECONDITION, 400,
                 reason, reason="SOURCE_REFUSED")
    passed = raw(linked, "POST", f"connections/{connection_id}:sync", {"wait": True}, timeout=30)
    assert (passed.status_code, passed.json()) == (400, {
        "code": "FAILED_PRECONDITION", "message": reason, "reason": "SOURCE_REFUSED"}), passed.text
    after = raw(linked, "GET", f"connections/{connection_id}").json()
    assert (after["state"], after["sync"]["lastError"], after["sync"]["usersDone"]) == ("FAILED", reason, 0), after


def test_a_failed_pass_is_not_running(linked):
    ungranted = m2m_source(linked.base_url, linked.data_dir, scopes=())
    connection_id = connect(linked, ungranted)["id"]
    linked.admin.list(page_size=1)  # the SDK's exchange the recorder expects
    passed = raw(linked, "POST", f"connections/{connection_id}:sync", {"wait": True}, timeout=30)
    assert passed.status_code == 400, passed.text
    after = raw(linked, "GET", f"connections/{connection_id}").json()
    assert after["sync"]["running"] is False, after


def test_import_account_pulls_the_user_from_the_connection(linked, source):
    connection = connect(linked, source)
    person = source_user(source, "Imogen Import")
    identifier = f"{person.user_id}@{connection['id']}"
    imported = linked.admin.import_account(identifier)
    assert_imported(imported, person, connection)
    assert_fresh(imported)
    assert imported.account_connections[0].external_id == person.user_id
    assert imported.display_name == "Imogen Import"
    # Read back by id and by the account identifier: the same user; a second import is a no-op.
    assert linked.admin.get(imported.id) == imported
    assert linked.admin.get(identifier) == imported
    assert linked.admin.import_account(identifier) == imported
    assert linked.auth0.import_account(identifier) == imported
    # Lists: BASIC without the account, FULL with it.
    assert linked.admin.list(display_name="Imogen Import").users == [basic(imported)]
    assert linked.admin.list(display_name="Imogen Import", view="FULL").users == [imported]
    # A user the source does not have.
    assert_error(refused(linked.admin.import_account, f"auth0|nobody@{connection['id']}"), Code.NOT_FOUND, 404,
                 f"{source.domain} has no user auth0|nobody", reason="EXTERNAL_USER_NOT_FOUND")
    assert_error(refused(linked.admin.import_account, imported.id), Code.INVALID_ARGUMENT, 400,
                 "Import takes an <externalId>@<connectionId> identifier", param="userId")


def test_report_event_with_wait_refreshes_the_user_from_the_connection(linked, source):
    connection = connect(linked, source)
    person = source_user(source, "Rita Report")
    identifier = f"{person.user_id}@{connection['id']}"
    # A user the directory does not know yet is imported by the event.
    assert linked.auth0.report_event(identifier, type="SIGNUP", wait=True) == adminv1.ReportUserEventResponse()
    first = linked.admin.get(identifier)
    assert_imported(first, person, connection)
    # Renamed at the source: a SIGNIN event with wait brings the new name before it answers.
    source.management.users.update(person.user_id, name="Rita Renamed")
    assert linked.admin.report_event(identifier, type="SIGNIN", wait=True) == adminv1.ReportUserEventResponse()
    renamed = linked.admin.get(first.id)
    assert renamed.display_name == "Rita Renamed"
    assert_imported(renamed, person, connection, name="Rita Renamed")
    assert renamed.update_time > first.update_time and renamed.create_time == first.create_time
    # The directory's own fields stay; the source's are refreshed through the user's id and uniqueId too.
    unique_id = "rita-" + tag()
    mine = linked.admin.update(first.id, unique_id=unique_id, language_code="it", display_name="Mine for now")
    source.management.users.update(person.user_id, name="Rita Third", blocked=True)
    assert linked.admin.report_event(unique_id, type="CHANGED", wait=True) == adminv1.ReportUserEventResponse()
    third = linked.admin.get(unique_id)
    assert (third.id, third.unique_id, third.language_code, third.display_name, third.state, third.disabled) == \
        (first.id, unique_id, "it", "Rita Third", "DISABLED", True)
    assert third.account_connections[0].display_name == "Rita Third"
    source.management.users.update(person.user_id, blocked=False)
    assert linked.admin.report_event(mine.id, wait=True) == adminv1.ReportUserEventResponse()
    assert (linked.admin.get(mine.id).state, linked.admin.get(mine.id).disabled) == ("ACTIVE", False)


def test_report_event_without_wait_refreshes_in_the_background(linked, source):
    connection = connect(linked, source)
    person = source_user(source, "Bea Background")
    identifier = f"{person.user_id}@{connection['id']}"
    imported = linked.admin.import_account(identifier)
    source.management.users.update(person.user_id, name="Bea Later")
    assert linked.auth0.report_event(identifier, type="SIGNIN") == adminv1.ReportUserEventResponse()
    deadline = time.monotonic() + 5
    while linked.admin.get(imported.id).display_name != "Bea Later" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert linked.admin.get(imported.id).display_name == "Bea Later"
    # An unknown source user: accepted (the pull fails in the background), not imported.
    assert linked.auth0.report_event(f"auth0|nobody@{connection['id']}") == adminv1.ReportUserEventResponse()


def connection_users(directory: Directory, connection_id: str) -> dict:
    """Every directory user with an account at the connection (deleted ones too), by externalId; a user listed twice
    or an externalId held twice fails."""
    found, token, pages = {}, None, 0
    seen_ids = set()
    while True:
        page = directory.admin.list(page_size=100, page_token=token, view="FULL", show_deleted=True)
        pages += 1
        for user in page.users:
            assert user.id not in seen_ids, f"{user.id} listed twice"
            seen_ids.add(user.id)
            for account in user.account_connections:
                if account.connection.id == connection_id:
                    assert account.external_id not in found, f"{account.external_id} imported twice"
                    found[account.external_id] = user
        token = page.next_page_token
        if not token:
            return found
        assert pages < 500


def differences(after: dict, before: dict) -> dict:
    """What changed between two {key: adminv1.User} maps, field by field (account connections' fields too)."""
    changed = {}
    for key in set(after) | set(before):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None or new is None:
            changed[key] = (old, new)
            continue
        fields = {field.name: (getattr(old, field.name), getattr(new, field.name))
                  for field in dataclasses.fields(old) if getattr(old, field.name) != getattr(new, field.name)}
        if "account_connections" in fields and len(old.account_connections) == len(new.account_connections):
            fields["account_connections"] = [
                {field.name: (getattr(a, field.name), getattr(b, field.name)) for field in dataclasses.fields(a)
                 if getattr(a, field.name) != getattr(b, field.name)}
                for a, b in zip(old.account_connections, new.account_connections)]
        changed[key] = fields
    return changed


def settled(user: adminv1.User) -> adminv1.User:
    """A user without its accounts' updateTime, which every pass of this binary rewrites (see
    test_a_pass_over_an_unchanged_source_changes_nothing, which asserts it exactly)."""
    return dataclasses.replace(user, account_connections=[
        dataclasses.replace(account, update_time=None) for account in user.account_connections])


def test_a_sync_pass_imports_every_user_once_then_follows_the_source(linked, source):
    people = [source_user(source, f"Pass Person {index:02d}") for index in range(30)]
    connection = connect(linked, source)
    passed = sync(linked, connection["id"])
    everyone = {user.user_id: user for user in source.management.users.list(per_page=100)}
    assert len(everyone) >= 30 and {person.user_id for person in people} <= set(everyone)
    assert passed["sync"]["lastPassUsers"] == len(everyone) and passed["sync"]["lastPullTime"], passed
    imported = connection_users(linked, connection["id"])
    assert set(imported) == set(everyone)
    for external_id, user in imported.items():
        assert_imported(user, everyone[external_id], {**connection, "state": "ACTIVE"})
    # A second pass: the same users, each once.
    sync(linked, connection["id"])
    again = connection_users(linked, connection["id"])
    assert {key: settled(user) for key, user in again.items()} == \
        {key: settled(user) for key, user in imported.items()}
    # Renamed, blocked and deleted at the source: the next pass follows.
    renamed, blocked, deleted = people[0], people[1], people[2]
    source.management.users.update(renamed.user_id, name="Pass Person Renamed")
    source.management.users.update(blocked.user_id, blocked=True)
    source.management.users.delete(deleted.user_id)
    sync(linked, connection["id"])
    after = connection_users(linked, connection["id"])
    assert set(after) == set(imported)
    assert after[renamed.user_id].display_name == "Pass Person Renamed"
    assert_imported(after[renamed.user_id], renamed, {**connection, "state": "ACTIVE"}, name="Pass Person Renamed")
    assert_imported(after[blocked.user_id], blocked, {**connection, "state": "ACTIVE"}, disabled=True)
    gone = after[deleted.user_id]
    assert (gone.id, gone.state, gone.display_name) == (imported[deleted.user_id].id, "PENDING_DELETION",
                                                        imported[deleted.user_id].display_name)
    delete_time = raw(linked, "GET", "users/" + gone.id).json()["deleteTime"]
    assert rfc3339(delete_time) >= imported[deleted.user_id].update_time, delete_time
    unchanged = set(imported) - {renamed.user_id, blocked.user_id, deleted.user_id}
    assert {key: settled(after[key]) for key in unchanged} == {key: settled(imported[key]) for key in unchanged}
    assert linked.admin.get(f"{deleted.user_id}@{connection['id']}") == gone
    assert gone.id not in {user.id for user in connection_users_live(linked)}


def connection_users_live(directory: Directory) -> list:
    """Every user a default list shows (no deleted ones), all pages."""
    users, token = [], None
    while True:
        page = directory.admin.list(page_size=100, page_token=token)
        users += page.users
        token = page.next_page_token
        if not token:
            return users


def test_a_pass_over_an_unchanged_source_changes_nothing(linked, source):
    for index in range(3):
        source_user(source, f"Still Person {index}")
    connection = connect(linked, source)
    sync(linked, connection["id"])
    before = connection_users(linked, connection["id"])
    sync(linked, connection["id"])
    after = connection_users(linked, connection["id"])
    assert after == before, differences(after, before)


def test_a_connection_with_a_wrong_secret_fails_its_test():
    # Once, on SQLite: the exchange does not involve the store.
    for alone in _serve("sqlite"):
        own = m2m_source(alone.base_url, alone.data_dir)
        connection_id = connect(alone, own, secret="wrong-secret-" + tag())["id"]
        alone.admin.list(page_size=1)  # the SDK's exchange the recorder expects
        tested = raw(alone, "POST", f"connections/{connection_id}:test", {}, timeout=15)
        assert tested.status_code == 200, tested.text
        assert tested.json()["state"] == "FAILED", tested.text
