"""The Hasura-compatible GraphQL engine driven by a real GraphQL client, `gql` (RequestsHTTPTransport), on SQLite and on
PostgreSQL.

Each engine is a Tessera server of its own, started with HASURA_GRAPHQL_ADMIN_SECRET (so the engine runs, on an
embedded SQLite file in the data folder) and, for PostgreSQL, HASURA_GRAPHQL_DATABASE_URL naming a fresh database on
TESSERA_TEST_POSTGRES_URL's server (skipped when that variable is unset). Tables are made with /v2/query run_sql and
tracked with /v1/metadata, as the Hasura console and CLI do; every test starts from the same rows (`data` fixture).

What is asserted is what Hasura v2 answers for the same tables and documents: its schema names (query_root,
author_bool_exp, author_constraint, ...), its results, and its errors (message, extensions.code, extensions.path),
always with HTTP 200 on /v1/graphql. Every HTTP exchange of every test is recorded: none may be a 5xx, and every
/v1/graphql answer must be a 200 (the `http_log` fixture).
"""
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from gql import Client, gql
from gql.graphql_request import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError, GraphQLSchema

from conftest import TIMEOUT, postgres_database, remember_secret, start_tessera, stop_tessera

SCHEMA_SQL = """
CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE article (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  rating INTEGER,
  is_published BOOLEAN DEFAULT false,
  author_id INTEGER REFERENCES author(id)
);
"""

# Author names share their case, so that ordering by name is the same under every collation; article titles differ
# in case, for _like (case-sensitive) against _ilike.
SEED_SQL = """
DELETE FROM article;
DELETE FROM author;
INSERT INTO author (id, name) VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cara'), (4, 'Dana');
INSERT INTO article (id, title, rating, is_published, author_id) VALUES
  (1, 'GraphQL intro', 5, TRUE, 1),
  (2, 'SQL tricks', 3, FALSE, 1),
  (3, 'graphql deep dive', 4, TRUE, 2),
  (4, 'Untitled', NULL, FALSE, 2),
  (5, 'Orphan', 2, TRUE, NULL),
  (6, 'Postgres notes', 3, TRUE, 3);
"""

AUTHORS = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}, {"id": 3, "name": "Cara"}, {"id": 4, "name": "Dana"}]

TRACK = {"type": "bulk", "args": [
    {"type": "pg_track_table", "args": {"source": "default", "table": {"schema": "public", "name": "author"}}},
    {"type": "pg_track_table", "args": {"source": "default", "table": {"schema": "public", "name": "article"}}},
    {"type": "pg_create_object_relationship", "args": {
        "source": "default", "table": {"schema": "public", "name": "article"}, "name": "author",
        "using": {"foreign_key_constraint_on": "author_id"}}},
    {"type": "pg_create_array_relationship", "args": {
        "source": "default", "table": {"schema": "public", "name": "author"}, "name": "articles",
        "using": {"foreign_key_constraint_on": {"table": {"schema": "public", "name": "article"}, "column": "author_id"}}}},
]}


# ---------------------------------------------------------------------------------------------------- the engines

@dataclass
class Engine:
    kind: str  # "sqlite" or "postgres"
    base: str  # ends with "/"
    secret: str
    schema_client: Client = None  # gql with the schema fetched by introspection (validates documents locally)
    plain_client: Client = None  # gql without a schema: every document goes to the server as written

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    @property
    def admin_headers(self) -> dict:
        return {"x-hasura-admin-secret": self.secret}

    def client(self, headers=None, fetch_schema=False, method="POST") -> Client:
        transport = RequestsHTTPTransport(url=self.url("v1/graphql"), headers=headers if headers is not None else self.admin_headers,
                                          timeout=TIMEOUT, retries=0, method=method)
        return Client(transport=transport, fetch_schema_from_transport=fetch_schema)

    def post(self, path: str, body, headers=None) -> requests.Response:
        return requests.post(self.url(path), json=body, headers=headers if headers is not None else self.admin_headers,
                             timeout=TIMEOUT)

    def run_sql(self, sql: str) -> dict:
        response = self.post("v2/query", {"type": "run_sql", "args": {"source": "default", "sql": sql}})
        assert response.status_code == 200, response.text
        return response.json()

    def metadata(self, body: dict) -> dict:
        response = self.post("v1/metadata", body)
        assert response.status_code == 200, response.text
        return response.json()

    def execute(self, document: str, variables=None, operation_name=None) -> dict:
        """Through gql with the introspected schema: validated locally, then sent."""
        return self.schema_client.execute(gql(document), variable_values=variables, operation_name=operation_name)

    def execute_plain(self, document: str, variables=None, operation_name=None) -> dict:
        """Through gql without a schema: the server alone judges the document."""
        return self.plain_client.execute(gql(document), variable_values=variables, operation_name=operation_name)

    def errors_of(self, document: str, variables=None, client: Client = None) -> list:
        """The `errors` of a document the server refuses (gql raises TransportQueryError with them)."""
        with pytest.raises(TransportQueryError) as raised:
            (client or self.plain_client).execute(gql(document), variable_values=variables)
        assert raised.value.data is None, raised.value.data
        return raised.value.errors


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request):
    kind = request.param
    secret = "gql-admin-" + secrets.token_urlsafe(24)
    remember_secret(secret)
    env = dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=secret)
    env.pop("HASURA_GRAPHQL_DATABASE_URL", None)
    with contextlib.ExitStack() as stack:
        if kind == "postgres":
            env["HASURA_GRAPHQL_DATABASE_URL"] = stack.enter_context(postgres_database("gql_interop_"))
        running = start_tessera(env=env, prefix=f"tessera-graphql-{kind}-")
        try:
            found = Engine(kind, running.base, secret)
            assert found.run_sql(SCHEMA_SQL)["result_type"] == "CommandOk"
            assert found.metadata(TRACK) == {"message": "success"}
            found.schema_client = found.client(fetch_schema=True)
            with found.schema_client:  # fetches the schema now, once: later tests count their own requests
                assert found.schema_client.schema is not None
            found.plain_client = found.client()
            yield found
        finally:
            stop_tessera(running)


@pytest.fixture
def data(engine):
    """The seed rows, written again before each test (tests insert, update and delete)."""
    engine.run_sql(SEED_SQL)
    return engine


@pytest.fixture(autouse=True)
def http_log(monkeypatch):
    """Every HTTP exchange of the test (gql's and requests' own): no 5xx anywhere, HTTP 200 on /v1/graphql."""
    seen = []
    original = requests.Session.send

    def send(session, prepared, **kwargs):
        response = original(session, prepared, **kwargs)
        seen.append((prepared.method, prepared.url, response.status_code, response.text[:300]))
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    yield seen
    failures = [entry for entry in seen if entry[2] >= 500]
    assert not failures, f"5xx answers: {failures}"
    not_ok = [entry for entry in seen if urlsplit(entry[1]).path == "/v1/graphql" and entry[2] != 200]
    assert not not_ok, f"/v1/graphql answered other than 200: {not_ok}"


def ids(rows) -> list:
    return [row["id"] for row in rows]


def article_ids(engine, where: str, order: str = "{id: asc}") -> list:
    return ids(engine.execute(f"{{ article(where: {where}, order_by: {order}) {{ id }} }}")["article"])


def author_names(engine) -> list:
    return engine.execute("{ author(order_by: {id: asc}) { id name } }")["author"]


def only_error(errors: list) -> dict:
    assert len(errors) == 1, errors
    return errors[0]


# ---------------------------------------------------------------------------------------------------- 1. schema

def test_version(engine):
    response = requests.get(engine.url("v1/version"), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["version"].startswith("v2.")


def test_introspection_builds_hasura_schema(engine):
    client = engine.client(fetch_schema=True)
    with client:
        schema = client.schema
    assert isinstance(schema, GraphQLSchema)
    assert schema.query_type.name == "query_root"
    assert schema.mutation_type.name == "mutation_root"
    for name in ["author", "article", "author_bool_exp", "author_order_by", "author_insert_input", "author_on_conflict",
                 "author_constraint", "author_mutation_response", "author_aggregate", "author_aggregate_fields",
                 "author_select_column", "author_update_column", "author_set_input", "author_inc_input",
                 "author_pk_columns_input", "author_updates", "String_comparison_exp", "Int_comparison_exp",
                 "Boolean_comparison_exp", "order_by"]:
        assert schema.get_type(name) is not None, name
    assert set(schema.get_type("author_constraint").values) == {"author_pkey", "author_name_key"}
    assert set(schema.get_type("article_constraint").values) == {"article_pkey"}
    assert set(schema.get_type("order_by").values) == {"asc", "asc_nulls_first", "asc_nulls_last", "desc",
                                                       "desc_nulls_first", "desc_nulls_last"}
    assert set(schema.get_type("author_select_column").values) == {"id", "name"}

    def signature(type_name, field_name):
        field = schema.get_type(type_name).fields[field_name]
        return {name: str(argument.type) for name, argument in field.args.items()}, str(field.type)

    select_args = {"distinct_on": "[author_select_column!]", "limit": "Int", "offset": "Int",
                   "order_by": "[author_order_by!]", "where": "author_bool_exp"}
    assert signature("query_root", "author") == (select_args, "[author!]!")
    assert signature("query_root", "author_aggregate") == (select_args, "author_aggregate!")
    assert signature("query_root", "author_by_pk") == ({"id": "Int!"}, "author")
    assert signature("mutation_root", "insert_author") == (
        {"objects": "[author_insert_input!]!", "on_conflict": "author_on_conflict"}, "author_mutation_response")
    assert signature("mutation_root", "insert_author_one") == (
        {"object": "author_insert_input!", "on_conflict": "author_on_conflict"}, "author")
    assert signature("mutation_root", "update_author") == (
        {"_inc": "author_inc_input", "_set": "author_set_input", "where": "author_bool_exp!"}, "author_mutation_response")
    assert signature("mutation_root", "update_author_by_pk") == (
        {"_inc": "author_inc_input", "_set": "author_set_input", "pk_columns": "author_pk_columns_input!"}, "author")
    assert signature("mutation_root", "update_author_many") == ({"updates": "[author_updates!]!"}, "[author_mutation_response]")
    assert signature("mutation_root", "delete_author") == ({"where": "author_bool_exp!"}, "author_mutation_response")
    assert signature("mutation_root", "delete_author_by_pk") == ({"id": "Int!"}, "author")
    assert signature("author", "articles") == (
        {"distinct_on": "[article_select_column!]", "limit": "Int", "offset": "Int",
         "order_by": "[article_order_by!]", "where": "article_bool_exp"}, "[article!]!")
    assert signature("article", "author") == ({}, "author")

    on_conflict = schema.get_type("author_on_conflict").fields
    assert {name: str(field.type) for name, field in on_conflict.items()} == {
        "constraint": "author_constraint!", "update_columns": "[author_update_column!]!", "where": "author_bool_exp"}
    assert set(schema.get_type("author_bool_exp").fields) >= {"_and", "_or", "_not", "id", "name", "articles"}
    assert set(schema.get_type("author_order_by").fields) == {"id", "name", "articles_aggregate"}
    assert set(schema.get_type("article_order_by").fields) == {"id", "title", "rating", "is_published", "author_id", "author"}
    assert {name: str(field.type) for name, field in schema.get_type("author_mutation_response").fields.items()} == {
        "affected_rows": "Int!", "returning": "[author!]!"}
    assert set(schema.get_type("String_comparison_exp").fields) >= {
        "_eq", "_neq", "_gt", "_lt", "_gte", "_lte", "_in", "_nin", "_is_null", "_like", "_nlike", "_ilike", "_nilike"}


def test_local_validation_refuses_before_sending(engine):
    client = engine.client(fetch_schema=True)
    with client as session:
        assert client.schema is not None
        sent = []
        original = client.transport.execute

        def counting(*args, **kwargs):
            sent.append(args)
            return original(*args, **kwargs)

        client.transport.execute = counting
        with pytest.raises(GraphQLError, match="Cannot query field 'nope' on type 'author'"):
            session.execute(gql("{ author { id nope } }"))
        with pytest.raises(GraphQLError, match="author_constraint"):
            session.execute(gql('mutation { insert_author(objects: [{id: 1, name: "x"}], '
                                'on_conflict: {constraint: no_such_key, update_columns: []}) { affected_rows } }'))
        with pytest.raises(GraphQLError):
            session.execute(gql("{ author(where: {id: {_like: 1}}) { id } }"))
        assert sent == []
        # A valid document goes through the same session.
        assert session.execute(gql("{ author_by_pk(id: 1) { name } }")) is not None
        assert len(sent) == 1


# ---------------------------------------------------------------------------------------------------- 2. root fields

def test_select_and_select_by_pk(data):
    assert data.execute("{ author(order_by: {id: asc}) { id name } }") == {"author": AUTHORS}
    assert data.execute("{ author_by_pk(id: 2) { id name } }") == {"author_by_pk": {"id": 2, "name": "Bob"}}
    assert data.execute("{ author_by_pk(id: 99) { id name } }") == {"author_by_pk": None}
    result = data.execute("""{ article_by_pk(id: 4) { id title rating is_published author { name }
                                                      } orphan: article_by_pk(id: 5) { author { name } } }""")
    assert result == {"article_by_pk": {"id": 4, "title": "Untitled", "rating": None, "is_published": False,
                                        "author": {"name": "Bob"}},
                      "orphan": {"author": None}}
    result = data.execute("{ author(order_by: {id: asc}) { id articles(order_by: {id: asc}) { id title } } }")
    assert result == {"author": [
        {"id": 1, "articles": [{"id": 1, "title": "GraphQL intro"}, {"id": 2, "title": "SQL tricks"}]},
        {"id": 2, "articles": [{"id": 3, "title": "graphql deep dive"}, {"id": 4, "title": "Untitled"}]},
        {"id": 3, "articles": [{"id": 6, "title": "Postgres notes"}]},
        {"id": 4, "articles": []},
    ]}


def test_aggregate(data):
    result = data.execute("""{
      author_aggregate(order_by: {id: asc}) {
        aggregate { count sum { id } avg { id } max { id name } min { id name } }
        nodes { id name }
      }
    }""")
    assert result == {"author_aggregate": {
        "aggregate": {"count": 4, "sum": {"id": 10}, "avg": {"id": 2.5}, "max": {"id": 4, "name": "Dana"},
                      "min": {"id": 1, "name": "Ann"}},
        "nodes": AUTHORS,
    }}
    result = data.execute("""{
      article_aggregate(where: {rating: {_is_null: false}}) {
        aggregate {
          count
          rated: count(columns: [rating])
          distinct_ratings: count(columns: [rating], distinct: true)
          sum { rating } avg { rating } max { rating } min { rating }
        }
      }
      all: article_aggregate { aggregate { count rated: count(columns: rating) } }
    }""")
    assert result == {
        "article_aggregate": {"aggregate": {
            "count": 5, "rated": 5, "distinct_ratings": 4, "sum": {"rating": 17}, "avg": {"rating": pytest.approx(3.4)},
            "max": {"rating": 5}, "min": {"rating": 2}}},
        "all": {"aggregate": {"count": 6, "rated": 5}},
    }
    empty = data.execute("{ author_aggregate(where: {id: {_gt: 100}}) { aggregate { count sum { id } max { name } } nodes { id } } }")
    assert empty == {"author_aggregate": {"aggregate": {"count": 0, "sum": {"id": None}, "max": {"name": None}}, "nodes": []}}


def test_aggregate_through_array_relationship(data, request):
    result = data.execute("""{
      author(order_by: {id: asc}) {
        id
        articles_aggregate(where: {rating: {_is_null: false}}) { aggregate { count max { rating } } nodes { id } }
      }
    }""")
    assert result == {"author": [
        {"id": 1, "articles_aggregate": {"aggregate": {"count": 2, "max": {"rating": 5}}, "nodes": [{"id": 1}, {"id": 2}]}},
        {"id": 2, "articles_aggregate": {"aggregate": {"count": 1, "max": {"rating": 4}}, "nodes": [{"id": 3}]}},
        {"id": 3, "articles_aggregate": {"aggregate": {"count": 1, "max": {"rating": 3}}, "nodes": [{"id": 6}]}},
        {"id": 4, "articles_aggregate": {"aggregate": {"count": 0, "max": {"rating": None}}, "nodes": []}},
    ]}


def test_insert_and_insert_one(data):
    result = data.execute("""mutation {
      insert_author(objects: [{id: 10, name: "Eve"}, {id: 11, name: "Finn"}]) { affected_rows returning { id name } }
    }""")
    assert result == {"insert_author": {"affected_rows": 2,
                                        "returning": [{"id": 10, "name": "Eve"}, {"id": 11, "name": "Finn"}]}}
    result = data.execute('mutation { insert_author_one(object: {id: 12, name: "Gus"}) { id name articles { id } } }')
    assert result == {"insert_author_one": {"id": 12, "name": "Gus", "articles": []}}
    result = data.execute("""mutation {
      insert_article_one(object: {id: 7, title: "Fresh", author_id: 12}) { id title rating is_published author { name } }
    }""")
    # is_published takes the column's default (false), rating is null.
    assert result == {"insert_article_one": {"id": 7, "title": "Fresh", "rating": None, "is_published": False,
                                             "author": {"name": "Gus"}}}
    assert author_names(data) == AUTHORS + [{"id": 10, "name": "Eve"}, {"id": 11, "name": "Finn"}, {"id": 12, "name": "Gus"}]
    # Two root fields of one mutation run in order, in one transaction.
    result = data.execute("""mutation {
      a: insert_author_one(object: {id: 13, name: "Hal"}) { id }
      b: update_author_by_pk(pk_columns: {id: 13}, _set: {name: "Hal 2"}) { name }
    }""")
    assert result == {"a": {"id": 13}, "b": {"name": "Hal 2"}}


def test_update_update_by_pk_and_update_many(data):
    result = data.execute('mutation { update_author(where: {id: {_eq: 1}}, _set: {name: "Ann 2"}) { affected_rows } }')
    assert result == {"update_author": {"affected_rows": 1}}
    result = data.execute("""mutation {
      update_article(where: {author_id: {_eq: 1}}, _inc: {rating: 10}, _set: {is_published: true}) {
        affected_rows returning { id rating is_published }
      }
    }""")
    assert result["update_article"]["affected_rows"] == 2
    assert sorted(result["update_article"]["returning"], key=lambda row: row["id"]) == [
        {"id": 1, "rating": 15, "is_published": True}, {"id": 2, "rating": 13, "is_published": True}]
    result = data.execute('mutation { update_author(where: {id: {_gt: 100}}, _set: {name: "x"}) { affected_rows returning { id } } }')
    assert result == {"update_author": {"affected_rows": 0, "returning": []}}

    result = data.execute('mutation { update_author_by_pk(pk_columns: {id: 2}, _set: {name: "Bobby"}) { id name } }')
    assert result == {"update_author_by_pk": {"id": 2, "name": "Bobby"}}
    result = data.execute('mutation { update_author_by_pk(pk_columns: {id: 99}, _set: {name: "nobody"}) { id name } }')
    assert result == {"update_author_by_pk": None}
    result = data.execute("mutation { update_article_by_pk(pk_columns: {id: 4}, _inc: {rating: 1}) { id rating } }")
    assert result == {"update_article_by_pk": {"id": 4, "rating": None}}  # null + 1 stays null, as in SQL

    result = data.execute("""mutation {
      update_author_many(updates: [
        {where: {id: {_eq: 3}}, _set: {name: "Carla"}},
        {where: {id: {_gt: 100}}, _set: {name: "none"}},
        {where: {name: {_eq: "Carla"}}, _set: {name: "Carla 2"}}
      ]) { affected_rows returning { id name } }
    }""")
    # Each update sees the ones before it.
    assert result == {"update_author_many": [
        {"affected_rows": 1, "returning": [{"id": 3, "name": "Carla"}]},
        {"affected_rows": 0, "returning": []},
        {"affected_rows": 1, "returning": [{"id": 3, "name": "Carla 2"}]},
    ]}
    assert author_names(data) == [{"id": 1, "name": "Ann 2"}, {"id": 2, "name": "Bobby"}, {"id": 3, "name": "Carla 2"},
                                  {"id": 4, "name": "Dana"}]


def test_delete_and_delete_by_pk(data):
    result = data.execute("""mutation {
      delete_article(where: {author_id: {_eq: 1}}) { affected_rows returning { id title } }
    }""")
    assert result["delete_article"]["affected_rows"] == 2
    assert sorted(result["delete_article"]["returning"], key=lambda row: row["id"]) == [
        {"id": 1, "title": "GraphQL intro"}, {"id": 2, "title": "SQL tricks"}]
    # The deleted rows' relationships are read before they go.
    result = data.execute("mutation { delete_author_by_pk(id: 1) { id name articles { id } } }")
    assert result == {"delete_author_by_pk": {"id": 1, "name": "Ann", "articles": []}}
    assert data.execute("mutation { delete_author_by_pk(id: 1) { id } }") == {"delete_author_by_pk": None}
    result = data.execute('mutation { delete_author(where: {name: {_eq: "Dana"}}) { affected_rows returning { id name } } }')
    assert result == {"delete_author": {"affected_rows": 1, "returning": [{"id": 4, "name": "Dana"}]}}
    result = data.execute("mutation { delete_author(where: {id: {_gt: 100}}) { affected_rows returning { id } } }")
    assert result == {"delete_author": {"affected_rows": 0, "returning": []}}
    assert author_names(data) == [{"id": 2, "name": "Bob"}, {"id": 3, "name": "Cara"}]
    assert ids(data.execute("{ article(order_by: {id: asc}) { id } }")["article"]) == [3, 4, 5, 6]


# ---------------------------------------------------------------------------------------------------- 3. filters, order

@pytest.mark.parametrize("where,expected", [
    ("{rating: {_eq: 3}}", [2, 6]),
    ("{rating: {_neq: 3}}", [1, 3, 5]),  # NULL <> 3 is not true: article 4 is out
    ("{rating: {_gt: 3}}", [1, 3]),
    ("{rating: {_lt: 3}}", [5]),
    ("{rating: {_gte: 4}}", [1, 3]),
    ("{rating: {_lte: 3}}", [2, 5, 6]),
    ("{rating: {_in: [2, 5]}}", [1, 5]),
    ("{rating: {_nin: [2, 5]}}", [2, 3, 6]),
    ("{rating: {_in: []}}", []),
    ("{rating: {_is_null: true}}", [4]),
    ("{rating: {_is_null: false}}", [1, 2, 3, 5, 6]),
    ("{rating: {_gt: 2, _lt: 5}}", [2, 3, 6]),
    ('{title: {_eq: "Orphan"}}', [5]),
    ('{title: {_like: "Graph%"}}', [1]),
    ('{title: {_like: "%raph%"}}', [1, 3]),
    ('{title: {_nlike: "Graph%"}}', [2, 3, 4, 5, 6]),
    ('{title: {_ilike: "graph%"}}', [1, 3]),
    ('{title: {_nilike: "graph%"}}', [2, 4, 5, 6]),
    ('{title: {_like: "_QL%"}}', [2]),
    ("{is_published: {_eq: false}}", [2, 4]),
    ("{_and: [{rating: {_gte: 3}}, {is_published: {_eq: true}}]}", [1, 3, 6]),
    ("{_or: [{rating: {_eq: 2}}, {rating: {_is_null: true}}]}", [4, 5]),
    ("{_not: {is_published: {_eq: true}}}", [2, 4]),
    # Article 4: NOT (NULL >= 4 OR false) is NOT NULL, which is NULL: not selected (SQL's three-valued logic).
    ("{_not: {_or: [{rating: {_gte: 4}}, {author_id: {_is_null: true}}]}}", [2, 6]),
    ("{_and: []}", [1, 2, 3, 4, 5, 6]),
    ("{}", [1, 2, 3, 4, 5, 6]),
    ('{author: {name: {_eq: "Ann"}}}', [1, 2]),
    ('{author: {name: {_in: ["Bob", "Cara"]}}, rating: {_gte: 3}}', [3, 6]),
    ("{_not: {author: {}}}", [5]),
    ('{author: {articles: {title: {_ilike: "%notes%"}}}}', [6]),
])
def test_article_filters(data, where, expected):
    assert sorted(article_ids(data, where)) == sorted(expected)


@pytest.mark.parametrize("where,expected", [
    ("{articles: {rating: {_gte: 4}}}", [1, 2]),
    ("{articles: {}}", [1, 2, 3]),
    ("{_not: {articles: {}}}", [4]),
    ("{articles: {is_published: {_eq: false}, rating: {_is_null: true}}}", [2]),
    ('{_or: [{name: {_like: "D%"}}, {articles: {title: {_like: "Postgres%"}}}]}', [3, 4]),
    ('{articles: {author: {name: {_eq: "Bob"}}}}', [2]),
])
def test_author_filters_through_array_relationship(data, where, expected):
    assert ids(data.execute(f"{{ author(where: {where}, order_by: {{id: asc}}) {{ id }} }}")["author"]) == expected


def test_filters_on_nested_array_and_variables_in_operators(data):
    result = data.execute("""query ($min: Int!, $pattern: String!) {
      author(order_by: {id: asc}, where: {articles: {rating: {_gte: $min}}}) {
        id articles(where: {title: {_ilike: $pattern}}, order_by: {id: asc}) { id }
      }
    }""", {"min": 3, "pattern": "%GRAPH%"})
    assert result == {"author": [{"id": 1, "articles": [{"id": 1}]}, {"id": 2, "articles": [{"id": 3}]},
                                 {"id": 3, "articles": []}]}


@pytest.mark.parametrize("order,expected", [
    ("[{rating: asc}, {id: asc}]", [5, 2, 6, 3, 1, 4]),  # asc: nulls last
    ("[{rating: desc}, {id: asc}]", [4, 1, 3, 2, 6, 5]),  # desc: nulls first
    ("[{rating: asc_nulls_first}, {id: asc}]", [4, 5, 2, 6, 3, 1]),
    ("[{rating: asc_nulls_last}, {id: asc}]", [5, 2, 6, 3, 1, 4]),
    ("[{rating: desc_nulls_first}, {id: desc}]", [4, 1, 3, 6, 2, 5]),
    ("[{rating: desc_nulls_last}, {id: asc}]", [1, 3, 2, 6, 5, 4]),
    ("{id: desc}", [6, 5, 4, 3, 2, 1]),
    ("[{author: {name: desc}}, {id: asc}]", [5, 6, 3, 4, 1, 2]),  # article 5 has no author: a null name, first
    ("[{author: {name: asc}}, {id: desc}]", [2, 1, 4, 3, 6, 5]),
    ("[{is_published: asc}, {id: asc}]", [2, 4, 1, 3, 5, 6]),
])
def test_order_by(data, order, expected):
    assert ids(data.execute(f"{{ article(order_by: {order}) {{ id }} }}")["article"]) == expected


def test_order_by_array_aggregate_limit_offset_distinct_on(data):
    result = data.execute("{ author(order_by: [{articles_aggregate: {count: asc}}, {id: desc}]) { id } }")
    assert ids(result["author"]) == [4, 3, 2, 1]
    result = data.execute("{ article(order_by: {id: asc}, limit: 2, offset: 1) { id } }")
    assert ids(result["article"]) == [2, 3]
    result = data.execute("{ article(order_by: {id: asc}, offset: 4) { id } }")
    assert ids(result["article"]) == [5, 6]
    result = data.execute("{ article(order_by: {id: asc}, limit: 0) { id } }")
    assert result == {"article": []}
    result = data.execute("""{
      author(order_by: {id: asc}, limit: 2) { id articles(order_by: {id: desc}, limit: 1) { id } }
    }""")
    assert result == {"author": [{"id": 1, "articles": [{"id": 2}]}, {"id": 2, "articles": [{"id": 4}]}]}
    result = data.execute("{ article(distinct_on: [rating], order_by: [{rating: asc}, {id: desc}]) { id rating } }")
    assert result == {"article": [{"id": 5, "rating": 2}, {"id": 6, "rating": 3}, {"id": 3, "rating": 4},
                                  {"id": 1, "rating": 5}, {"id": 4, "rating": None}]}
    result = data.execute("{ article(distinct_on: is_published, order_by: [{is_published: asc}, {id: asc}]) { id } }")
    assert ids(result["article"]) == [2, 1]
    result = data.execute("""{
      author(order_by: {id: asc}, where: {id: {_lt: 3}}) { id articles(distinct_on: [is_published], order_by: [{is_published: desc}, {id: asc}]) { id } }
    }""")
    assert result == {"author": [{"id": 1, "articles": [{"id": 1}, {"id": 2}]}, {"id": 2, "articles": [{"id": 3}, {"id": 4}]}]}


def test_distinct_on_must_lead_order_by(data):
    error = only_error(data.errors_of("{ article(distinct_on: [rating], order_by: [{id: asc}]) { id } }"))
    assert error["message"] == '"distinct_on" columns must match initial "order_by" columns'
    assert error["extensions"]["code"] == "validation-failed"


# ---------------------------------------------------------------------------------------------------- 4. upserts

def test_upsert_with_update_columns(data):
    result = data.execute("""mutation {
      insert_author(objects: [{id: 1, name: "Ann Updated"}, {id: 20, name: "Zed"}],
                    on_conflict: {constraint: author_pkey, update_columns: [name]}) {
        affected_rows returning { id name }
      }
    }""")
    assert result == {"insert_author": {"affected_rows": 2,
                                        "returning": [{"id": 1, "name": "Ann Updated"}, {"id": 20, "name": "Zed"}]}}
    result = data.execute("""mutation {
      insert_author_one(object: {id: 21, name: "Dana"}, on_conflict: {constraint: author_name_key, update_columns: [id]}) {
        id name
      }
    }""")
    assert result == {"insert_author_one": {"id": 21, "name": "Dana"}}  # Dana (no articles) moved to id 21
    assert author_names(data) == [{"id": 1, "name": "Ann Updated"}, {"id": 2, "name": "Bob"}, {"id": 3, "name": "Cara"},
                                  {"id": 20, "name": "Zed"}, {"id": 21, "name": "Dana"}]


def test_upsert_with_empty_update_columns_does_nothing(data):
    result = data.execute("""mutation {
      insert_author(objects: [{id: 1, name: "Ann Again"}], on_conflict: {constraint: author_pkey, update_columns: []}) {
        affected_rows returning { id name }
      }
    }""")
    assert result == {"insert_author": {"affected_rows": 0, "returning": []}}
    # update_columns defaults to []: the conflicting row is skipped, the other inserted. (Sent without local
    # validation: see test_on_conflict_update_columns_default_is_introspected.)
    result = data.execute_plain("""mutation {
      insert_author(objects: [{id: 30, name: "Ann"}, {id: 31, name: "Ivy"}], on_conflict: {constraint: author_name_key}) {
        affected_rows returning { id name }
      }
    }""")
    assert result == {"insert_author": {"affected_rows": 1, "returning": [{"id": 31, "name": "Ivy"}]}}
    result = data.execute("""mutation {
      insert_author_one(object: {id: 2, name: "Bob"}, on_conflict: {constraint: author_pkey, update_columns: []}) { id }
    }""")
    assert result == {"insert_author_one": None}
    assert author_names(data) == AUTHORS + [{"id": 31, "name": "Ivy"}]


def test_on_conflict_update_columns_default_is_introspected(data):
    response = data.post("v1/graphql", {"query": '{ __type(name: "author_on_conflict") { inputFields { name defaultValue } } }'})
    fields = {field["name"]: field["defaultValue"] for field in response.json()["data"]["__type"]["inputFields"]}
    assert fields == {"constraint": None, "update_columns": "[]", "where": None}
    result = data.execute("""mutation {
      insert_author(objects: [{id: 30, name: "Ann"}], on_conflict: {constraint: author_name_key}) { affected_rows }
    }""")
    assert result == {"insert_author": {"affected_rows": 0}}


def test_upsert_with_where(data):
    result = data.execute("""mutation {
      insert_author(objects: [{id: 2, name: "Robert"}, {id: 3, name: "Caroline"}],
                    on_conflict: {constraint: author_pkey, update_columns: [name], where: {name: {_eq: "Bob"}}}) {
        affected_rows returning { id name }
      }
    }""")
    assert result == {"insert_author": {"affected_rows": 1, "returning": [{"id": 2, "name": "Robert"}]}}
    result = data.execute("""mutation {
      insert_author_one(object: {id: 4, name: "Danielle"},
                        on_conflict: {constraint: author_pkey, update_columns: [name], where: {articles: {}}}) { id name }
    }""")
    assert result == {"insert_author_one": None}  # Dana has no article: the where is false, nothing changes
    assert author_names(data) == [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Robert"}, {"id": 3, "name": "Cara"},
                                  {"id": 4, "name": "Dana"}]


# ---------------------------------------------------------------------------------------------------- 5. documents

def test_variables(data):
    document = """query Authors($w: author_bool_exp!, $limit: Int, $order: [author_order_by!]) {
      author(where: $w, limit: $limit, order_by: $order) { id name }
    }"""
    assert data.execute(document, {"w": {"name": {"_in": ["Ann", "Cara", "Zoe"]}}, "order": [{"id": "desc"}]}) == {
        "author": [{"id": 3, "name": "Cara"}, {"id": 1, "name": "Ann"}]}
    # The same document with other variables: a new plan, not the cached one's.
    assert data.execute(document, {"w": {"articles": {"rating": {"_is_null": True}}}, "limit": 5, "order": {"id": "asc"}}) == {
        "author": [{"id": 2, "name": "Bob"}]}
    assert data.execute("query ($id: Int = 2) { author_by_pk(id: $id) { name } }") == {"author_by_pk": {"name": "Bob"}}
    assert data.execute("query ($id: Int = 2) { author_by_pk(id: $id) { name } }", {"id": 3}) == {"author_by_pk": {"name": "Cara"}}

    inserted = data.execute("""mutation Add($objs: [author_insert_input!]!, $conflict: author_on_conflict) {
      insert_author(objects: $objs, on_conflict: $conflict) { affected_rows returning { id name } }
    }""", {"objs": [{"id": 40, "name": "Jo"}, {"id": 1, "name": "Ann (var)"}],
           "conflict": {"constraint": "author_pkey", "update_columns": ["name"]}})
    assert inserted == {"insert_author": {"affected_rows": 2,
                                          "returning": [{"id": 40, "name": "Jo"}, {"id": 1, "name": "Ann (var)"}]}}
    updated = data.execute("""mutation ($pk: author_pk_columns_input!, $set: author_set_input) {
      update_author_by_pk(pk_columns: $pk, _set: $set) { id name }
    }""", {"pk": {"id": 40}, "set": {"name": "Joanne"}})
    assert updated == {"update_author_by_pk": {"id": 40, "name": "Joanne"}}
    many = data.execute("mutation ($u: [author_updates!]!) { update_author_many(updates: $u) { affected_rows } }",
                        {"u": [{"where": {"id": {"_eq": 40}}, "_set": {"name": "Jo"}}]})
    assert many == {"update_author_many": [{"affected_rows": 1}]}


def test_fragments_aliases_directives_typename(data):
    result = data.execute("""
      query ($with: Boolean!, $without: Boolean!) {
        __typename
        first: author_by_pk(id: 1) { ...AuthorFields articles(order_by: {id: asc}) { ...ArticleFields } }
        second: author_by_pk(id: 2) { n: name ... on author { key: id } }
        third: author_by_pk(id: 3) { id name @include(if: $with) articles @skip(if: $with) { id } }
        fourth: author_by_pk(id: 3) { id name @include(if: $without) articles @skip(if: $without) { id } }
        literal: author_by_pk(id: 4) { id @skip(if: true) name @include(if: false) __typename }
        agg: author_aggregate { __typename aggregate { __typename count } }
      }
      fragment AuthorFields on author { __typename id name }
      fragment ArticleFields on article { id t: title }
    """, {"with": True, "without": False})
    assert result == {
        "__typename": "query_root",
        "first": {"__typename": "author", "id": 1, "name": "Ann",
                  "articles": [{"id": 1, "t": "GraphQL intro"}, {"id": 2, "t": "SQL tricks"}]},
        "second": {"n": "Bob", "key": 2},
        "third": {"id": 3, "name": "Cara"},
        "fourth": {"id": 3, "articles": [{"id": 6}]},
        "literal": {"__typename": "author"},
        "agg": {"__typename": "author_aggregate", "aggregate": {"__typename": "author_aggregate_fields", "count": 4}},
    }
    assert list(result) == ["__typename", "first", "second", "third", "fourth", "literal", "agg"]  # document order
    result = data.execute("""mutation {
      __typename
      insert_author(objects: [{id: 50, name: "Kim"}]) { __typename affected_rows returning { __typename id } }
    }""")
    assert result == {"__typename": "mutation_root",
                      "insert_author": {"__typename": "author_mutation_response", "affected_rows": 1,
                                        "returning": [{"__typename": "author", "id": 50}]}}


def test_operation_name_picks_one_of_two(data):
    document = """
      query First { author_by_pk(id: 1) { name } }
      query Second { author_by_pk(id: 2) { name } }
    """
    assert data.execute(document, operation_name="Second") == {"author_by_pk": {"name": "Bob"}}
    assert data.execute(document, operation_name="First") == {"author_by_pk": {"name": "Ann"}}
    mixed = """
      query Read { author_by_pk(id: 1) { name } }
      mutation Write { update_author_by_pk(pk_columns: {id: 1}, _set: {name: "Ann W"}) { name } }
    """
    assert data.execute(mixed, operation_name="Write") == {"update_author_by_pk": {"name": "Ann W"}}
    assert data.execute(mixed, operation_name="Read") == {"author_by_pk": {"name": "Ann W"}}


def test_batched_requests(data, http_log):
    requests_ = [
        GraphQLRequest(document=gql("{ author_by_pk(id: 1) { name } }")),
        GraphQLRequest(document=gql("query ($id: Int!) { author_by_pk(id: $id) { name } }"), variable_values={"id": 2}),
        GraphQLRequest(document=gql("query A { a: author_aggregate { aggregate { count } } } query B { b: article_aggregate { aggregate { count } } }"),
                       operation_name="B"),
        GraphQLRequest(document=gql('mutation { insert_author_one(object: {id: 60, name: "Lee"}) { id } }')),
    ]
    before = len(http_log)
    results = data.schema_client.execute_batch(requests_)
    assert [entry[0] for entry in http_log[before:]] == ["POST"]  # one request, a JSON array of four
    assert results == [{"author_by_pk": {"name": "Ann"}}, {"author_by_pk": {"name": "Bob"}},
                       {"b": {"aggregate": {"count": 6}}}, {"insert_author_one": {"id": 60}}]
    # One refused operation does not stop the others; each answer stands where its request stood.
    response = data.post("v1/graphql", [
        {"query": "{ author_by_pk(id: 3) { name } }"},
        {"query": "{ nope }"},
        {"query": "query ($n: String!) { author(where: {name: {_eq: $n}}) { id } }", "variables": {"n": "Lee"}},
    ])
    assert response.status_code == 200
    assert response.json() == [
        {"data": {"author_by_pk": {"name": "Cara"}}},
        {"errors": [{"message": "field 'nope' not found in type: 'query_root'",
                     "extensions": {"path": "$.selectionSet.nope", "code": "validation-failed"}}]},
        {"data": {"author": [{"id": 60}]}},
    ]


# ---------------------------------------------------------------------------------------------------- 6. errors

def test_unknown_field_answered_by_server(data):
    assert data.errors_of("{ x }") == [{"message": "field 'x' not found in type: 'query_root'",
                                        "extensions": {"path": "$.selectionSet.x", "code": "validation-failed"}}]
    assert data.errors_of("{ author { id nope } }") == [{
        "message": "field 'nope' not found in type: 'author'",
        "extensions": {"path": "$.selectionSet.author.selectionSet.nope", "code": "validation-failed"}}]
    assert data.errors_of("{ author(where: {nope: {_eq: 1}}) { id } }") == [{
        "message": "field 'nope' not found in type: 'author_bool_exp'",
        "extensions": {"path": "$.selectionSet.author.args.where.nope", "code": "validation-failed"}}]
    assert data.errors_of("mutation { x }") == [{"message": "field 'x' not found in type: 'mutation_root'",
                                                 "extensions": {"path": "$.selectionSet.x", "code": "validation-failed"}}]


def test_variable_errors(data):
    error = only_error(data.errors_of("query ($id: Int!) { author_by_pk(id: $id) { id } }"))
    assert error["message"] == 'expecting a value for non-nullable variable: "id"'
    assert error["extensions"]["code"] == "validation-failed"
    error = only_error(data.errors_of("{ author { id } }", {"unused": 1}))
    assert error == {"message": "unexpected variables in variableValues: unused",
                     "extensions": {"path": "$", "code": "validation-failed"}}


def test_missing_variable_path(data):
    assert data.errors_of("query ($id: Int!) { author_by_pk(id: $id) { id } }") == [{
        "message": 'expecting a value for non-nullable variable: "id"',
        "extensions": {"path": "$", "code": "validation-failed"}}]


def test_uniqueness_violation_message_and_code(data):
    errors = data.errors_of('mutation { insert_author(objects: [{id: 70, name: "New"}, {id: 71, name: "Ann"}]) { affected_rows } }')
    error = only_error(errors)
    assert error["message"] == 'Uniqueness violation. duplicate key value violates unique constraint "author_name_key"'
    assert error["extensions"]["code"] == "constraint-violation"
    error = only_error(data.errors_of('mutation { insert_author_one(object: {id: 1, name: "Other"}) { id } }'))
    assert error["message"] == 'Uniqueness violation. duplicate key value violates unique constraint "author_pkey"'
    assert error["extensions"]["code"] == "constraint-violation"
    error = only_error(data.errors_of('mutation { update_author_by_pk(pk_columns: {id: 2}, _set: {name: "Ann"}) { id } }'))
    assert error["message"] == 'Uniqueness violation. duplicate key value violates unique constraint "author_name_key"'
    assert error["extensions"]["code"] == "constraint-violation"
    # The whole mutation is one transaction: the first object (70) is not kept either.
    assert author_names(data) == AUTHORS


def test_uniqueness_violation_path(data):
    errors = data.errors_of('mutation { insert_author(objects: [{id: 70, name: "Ann"}]) { returning { id name } } }')
    assert errors == [{"message": 'Uniqueness violation. duplicate key value violates unique constraint "author_name_key"',
                       "extensions": {"path": "$.selectionSet.insert_author.args.objects", "code": "constraint-violation"}}]
    errors = data.errors_of('mutation { insert_author_one(object: {id: 70, name: "Ann"}) { id } }')
    assert errors == [{"message": 'Uniqueness violation. duplicate key value violates unique constraint "author_name_key"',
                       "extensions": {"path": "$.selectionSet.insert_author_one.args.object", "code": "constraint-violation"}}]


def test_admin_secret_missing_or_wrong(data):
    missing = data.client(headers={})
    # Tessera being the issuer, the engine is in JWT mode by default (its own JWKS and issuer): a request with
    # neither the secret nor a token gets JWT mode's answer.
    assert data.errors_of("{ author { id } }", client=missing) == [{
        "message": "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
        "extensions": {"path": "$", "code": "invalid-headers"}}]
    wrong = data.client(headers={"x-hasura-admin-secret": data.secret + "x"})
    assert data.errors_of("{ author { id } }", client=wrong) == [{
        "message": "invalid x-hasura-admin-secret/x-hasura-access-key",
        "extensions": {"path": "$", "code": "access-denied"}}]
    # gql's introspection is refused the same way, and says so.
    with pytest.raises(TransportQueryError, match="Error while fetching schema"):
        with data.client(headers={}, fetch_schema=True):
            pass
    # Nothing was written by the refused mutation.
    assert data.errors_of('mutation { delete_author(where: {}) { affected_rows } }', client=wrong)[0]["extensions"]["code"] == "access-denied"
    assert author_names(data) == AUTHORS
    # The admin endpoints refuse too (with their own envelope and a 4xx status).
    response = data.post("v2/query", {"type": "run_sql", "args": {"sql": "DROP TABLE article"}}, headers={})
    assert response.status_code == 401, response.text
    assert response.json() == {"path": "$", "error": "x-hasura-admin-secret/x-hasura-access-key required, but not found",
                               "code": "access-denied"}


def test_malformed_json_body(data):
    for body in [b"{not json", b"", b'{"query": "{ author { id } }"', b"\xff\xfe"]:
        response = requests.post(data.url("v1/graphql"), data=body, timeout=TIMEOUT,
                                 headers={**data.admin_headers, "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "data" not in answer, answer
        error = only_error(answer["errors"])
        assert error["extensions"] == {"path": "$", "code": "invalid-json"}, answer
    # JSON that is not a GraphQL request.
    response = data.post("v1/graphql", {"querry": "{ author { id } }"})
    assert response.status_code == 200
    error = only_error(response.json()["errors"])
    assert error["extensions"]["code"] == "parse-failed"
    assert "query" in error["message"]


SQL_METACHARACTERS = [
    "x'; DROP TABLE author; --",
    "Robert'); DROP TABLE article;--",
    'say "hi" \\ back\\slash',
    "100% _under_ score",
    "$1 ?1 ?2 :name @p0",
    "ünïcødé ✓ 😀",
    "line\nbreak\ttab",
]


def test_sql_metacharacters_are_data(data):
    for index, name in enumerate(SQL_METACHARACTERS):
        literal = json.dumps(name, ensure_ascii=False)  # a GraphQL string literal: quotes, backslashes, \n escaped
        result = data.execute(f"mutation {{ insert_author_one(object: {{id: {100 + index}, name: {literal}}}) {{ id name }} }}")
        assert result == {"insert_author_one": {"id": 100 + index, "name": name}}
        assert data.execute(f"{{ author(where: {{name: {{_eq: {literal}}}}}) {{ id }} }}") == {"author": [{"id": 100 + index}]}
        result = data.execute("query ($n: String!) { author(where: {name: {_eq: $n}}) { id name } }", {"n": name})
        assert result == {"author": [{"id": 100 + index, "name": name}]}
    via_variables = data.execute("mutation ($o: [author_insert_input!]!) { insert_author(objects: $o) { returning { name } } }",
                                 {"o": [{"id": 200, "name": "'; DELETE FROM author WHERE '1'='1"}]})
    assert via_variables == {"insert_author": {"returning": [{"name": "'; DELETE FROM author WHERE '1'='1"}]}}
    # _like patterns with quotes match as patterns, nothing more.
    assert ids(data.execute("""{ author(where: {name: {_like: "%'%"}}, order_by: {id: asc}) { id } }""")["author"]) == [100, 101, 200]
    assert ids(data.execute('{ author(where: {name: {_ilike: "%DROP TABLE%"}}, order_by: {id: asc}) { id } }')["author"]) == [100, 101]
    # Both tables are intact, every row there.
    count = data.execute("{ author_aggregate { aggregate { count } } article_aggregate { aggregate { count } } }")
    assert count == {"author_aggregate": {"aggregate": {"count": 4 + len(SQL_METACHARACTERS) + 1}},
                     "article_aggregate": {"aggregate": {"count": 6}}}
    rows = data.run_sql("SELECT name FROM author WHERE id >= 100 ORDER BY id")
    assert rows["result"][1:] == [[name] for name in SQL_METACHARACTERS] + [["'; DELETE FROM author WHERE '1'='1"]]


def test_deep_query_refused(data):
    depth = 40
    document = "query { author { " + "articles { author { " * depth + "id" + " } }" * depth + " } }"
    error = only_error(data.errors_of(document))
    assert error["extensions"]["code"] == "validation-failed"
    assert "depth" in error["message"].lower(), error
    # The schema-validating client passes it (it is valid GraphQL); the server still refuses.
    with pytest.raises(TransportQueryError) as raised:
        data.execute(document)
    assert raised.value.errors[0]["extensions"]["code"] == "validation-failed"
    # A moderately deep query is served.
    moderate = "query { author_by_pk(id: 1) { " + "articles(order_by: {id: asc}, limit: 1) { author { " * 5 + "id" + " } }" * 5 + " } }"
    result = data.execute(moderate)
    node = result["author_by_pk"]
    for _ in range(5):
        node = node["articles"][0]["author"]
    assert node == {"id": 1}


def test_fragment_fanout_refused(data):
    # Each fragment spreads the one below it twice: 2^20 fields once expanded. (A bound of the engine's own, like
    # the depth bound: refused as invalid, never a 5xx or a stall.)
    fragments = ["fragment F0 on author { id name }"]
    for level in range(1, 21):
        fragments.append(f"fragment F{level} on author {{ ...F{level - 1} ...F{level - 1} }}")
    document = "query { author { ...F20 } } " + " ".join(fragments)
    error = only_error(data.errors_of(document))
    assert error["extensions"]["code"] == "validation-failed"


def huge_variables():
    variables = {"w": {"name": {"_in": ["x" * 100] * 12_000}}}
    assert len(json.dumps(variables)) > 1 << 20
    return variables


def test_huge_variables_refused(data):
    document = "query ($w: author_bool_exp) { author(where: $w) { id } }"
    with pytest.raises(TransportQueryError) as raised:
        data.execute_plain(document, huge_variables())
    assert raised.value.data is None
    assert len(raised.value.errors) == 1
    # The server still answers afterwards.
    assert data.execute("{ author_aggregate { aggregate { count } } }") == {"author_aggregate": {"aggregate": {"count": 4}}}


def test_huge_variables_refusal_names_the_client_error(data):
    with pytest.raises(TransportQueryError) as raised:
        data.execute_plain("query ($w: author_bool_exp) { author(where: $w) { id } }", huge_variables())
    assert raised.value.errors[0]["extensions"]["code"] != "unexpected"


# ---------------------------------------------------------------------------------------------------- metadata

def test_metadata_export_drop_and_recreate_relationship(data):
    exported = data.metadata({"type": "export_metadata", "args": {}})
    assert exported["version"] == 3
    [source] = exported["sources"]
    assert source["name"] == "default"
    tables = {entry["table"]["name"]: entry for entry in source["tables"]}
    assert tables["author"]["array_relationships"] == [
        {"name": "articles", "using": {"foreign_key_constraint_on": {"table": {"schema": "public", "name": "article"},
                                                                     "column": "author_id"}}}]
    assert tables["article"]["object_relationships"] == [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}]
    try:
        assert data.metadata({"type": "pg_drop_relationship", "args": {"source": "default", "table": "author",
                                                                       "relationship": "articles"}}) == {"message": "success"}
        assert data.errors_of("{ author { articles { id } } }") == [{
            "message": "field 'articles' not found in type: 'author'",
            "extensions": {"path": "$.selectionSet.author.selectionSet.articles", "code": "validation-failed"}}]
    finally:
        assert data.metadata({"type": "replace_metadata", "args": exported}) == {"message": "success"}
    assert data.metadata({"type": "reload_metadata", "args": {}}) == {"message": "success", "is_consistent": True}
    result = data.execute("{ author_by_pk(id: 3) { articles { id } } }")
    assert result == {"author_by_pk": {"articles": [{"id": 6}]}}
    assert data.metadata({"type": "export_metadata", "args": {}}) == exported
