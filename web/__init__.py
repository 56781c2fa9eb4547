"""The web: server-rendered pages (the registration site) and the kit they share."""
