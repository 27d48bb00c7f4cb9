from webhost.db.migrate import run_env
from webhost.db.models import Base

run_env(Base.metadata)
