"""The Function App: composes the blueprints. No logic lives here."""

import azure.durable_functions as df
import azure.functions as func

import activities
import orchestrations
import triggers
from shared.telemetry import configure_telemetry

configure_telemetry()  # logs and traces to Application Insights, when it is configured
app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (*triggers.blueprints, *orchestrations.blueprints, *activities.blueprints):
    app.register_functions(blueprint)
