"""Extension objects shared by the app factory and the capabilities."""

from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

db = SQLA()
migrate = Migrate()
