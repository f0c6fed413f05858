-- wrk: POST one GraphQL operation as admin. QUERY_BODY is the JSON request body, SECRET the admin secret.
wrk.method = "POST"
wrk.body = os.getenv("QUERY_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-hasura-admin-secret"] = os.getenv("SECRET")
