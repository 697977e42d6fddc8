"""carelog: point-of-care hand-massage logs for nursing homes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, the route policy, blueprints and commands."""
    # Imported here so that the pure modules (statistics, the PDF renderer) load without Flask.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from carelog import config, paths

    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        template_folder=str(paths.TEMPLATES),
        static_folder=str(paths.STATIC),
    )
    config.load(app, test_config)
    if app.config["CARELOG_PROXIES"]:
        proxies = int(app.config["CARELOG_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    from carelog import models  # noqa: F401 - every table, for the app and for Alembic
    from carelog.accounts import login_sessions
    from carelog.database import configure_engine, render_migration_type
    from carelog.extensions import csrf, db, login_manager, migrate
    from carelog.web import boundary, error_pages, headers, policy, request_body

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(paths.MIGRATIONS),
        render_item=render_migration_type,
        compare_type=True,
    )
    # First of all, before CSRF reads the form: a body cut short is refused whole.
    app.before_request(request_body.refuse_unusable_input)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    # Flask-Login's own "session protection" stays off: carelog's sign-ins live on the server
    # (revocable, idle-limited, IP and browser recorded). Its "basic" mode only marked sessions
    # not fresh, which nothing reads, and it rewrote the anonymous cookie to do so: a request
    # still in flight at sign-in (the service worker's script) then answered with the old cookie
    # after the sign-in's and signed the nurse straight out again.
    login_manager.session_protection = None
    app.session_interface = login_sessions.CarelogSessionInterface()
    with app.app_context():
        configure_engine(db.engine)

    app.url_map.converters["int"] = boundary.DatabaseIntegerConverter
    app.before_request(policy.enforce_route_policy)
    app.after_request(headers.set_security_headers)
    error_pages.register(app)

    from carelog.accounts import admin_views, auth_views
    from carelog.audit import views as audit_views
    from carelog.care import board_views, correction_views, session_views
    from carelog.dashboard import views as dashboard_views
    from carelog.offline import views as offline_views
    from carelog.reports import views as report_views
    from carelog.residents import card_views, photo_views
    from carelog.residents import views as resident_views
    from carelog.tablets import views as tablet_views
    from carelog.web import filters, home_views

    filters.register(app)
    for blueprint in (
        home_views.bp,
        auth_views.bp,
        admin_views.bp,
        resident_views.bp,
        photo_views.bp,
        card_views.bp,
        board_views.bp,
        session_views.bp,
        correction_views.bp,
        audit_views.bp,
        report_views.bp,
        dashboard_views.bp,
        tablet_views.bp,
        offline_views.bp,
    ):
        app.register_blueprint(blueprint)

    from carelog.ops import commands

    commands.register(app)
    return app
