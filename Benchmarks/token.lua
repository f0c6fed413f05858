-- wrk: client-credentials token requests. BODY comes from the environment (set by run.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = os.getenv("BODY")
