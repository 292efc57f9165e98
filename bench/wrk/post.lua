-- POST the JSON body in env BODY to the path in env PATH_ (wrk -s post.lua URL).
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
