"""carelog: point-of-care hand-massage logs for nursing homes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, the route policy, blueprints and commands."""
    # Imported here so that the pure modules (statistics, the PDF renderer) load without Flask.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from carelog import config

    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        template_folder="../templates",
    )
    config.load(app, test_config)
    if app.config["CARELOG_PROXIES"]:
        proxies = int(app.config["CARELOG_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from carelog import audit, care_records, errors, models, security  # noqa: F401 - tables
    from carelog.database import configure_engine, render_migration_type
    from carelog.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_item=render_migration_type,
        compare_type=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"
    app.session_interface = security.CarelogSessionInterface()
    with app.app_context():
        configure_engine(db.engine)

    app.url_map.converters["int"] = security.DatabaseIntegerConverter
    app.before_request(security.refuse_unusable_input)
    app.before_request(security.enforce_route_policy)
    app.after_request(security.set_security_headers)
    errors.register(app)

    from carelog import display
    from carelog.views import (
        admin,
        auditor,
        auth,
        corrections,
        home,
        reports,
        residents,
        sessions,
        ward,
    )

    display.register(app)
    for blueprint in (
        home.bp,
        auth.bp,
        admin.bp,
        residents.bp,
        ward.bp,
        sessions.bp,
        corrections.bp,
        auditor.bp,
        reports.bp,
    ):
        app.register_blueprint(blueprint)

    from carelog import commands

    commands.register(app)
    return app
