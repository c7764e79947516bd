print("refit")
