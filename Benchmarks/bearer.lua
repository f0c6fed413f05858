-- wrk: GET with a bearer token (TOKEN from the environment); the path is wrk's URL.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
