"""Piccolo's configuration module (PICCOLO_CONF=pingyi.piccolo_conf)."""

from piccolo.conf.apps import AppRegistry

from pingyi.db.engine import make_engine
from pingyi.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["pingyi.piccolo_app"])
