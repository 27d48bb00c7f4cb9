from webhost.db.migrate import run_env

run_env(None)
