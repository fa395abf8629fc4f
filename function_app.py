"""The Function App: composes the blueprints. No logic lives here."""

import azure.durable_functions as df
import azure.functions as func

from activities import bp as activities_bp
from orchestrations import bp as orchestrations_bp
from triggers import bp as triggers_bp

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (triggers_bp, orchestrations_bp, activities_bp):
    app.register_functions(blueprint)
