"""Who is acting: accounts, passwords, TOTP, sessions, API tokens."""
