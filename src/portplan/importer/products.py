"""Well-known products for `portplan import`: which product a service is (by the
repository name of its image first, by its own name else) and what the product's ports
are named. The one table of products and their image names is here."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from portplan.model import normalize_name

# product -> the name (and kind) of its main port: its protocol.
PRODUCTS: Final = {
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mongo": "mongodb",
    "redis": "redis",
    "memcached": "memcached",
    "nats": "nats",
    "kafka": "kafka",
    "zookeeper": "zookeeper",
    "rabbitmq": "amqp",
    "elasticsearch": "http",
    "clickhouse": "http",
    "prometheus": "http",
    "grafana": "http",
}
# Other ports of those products, by number.
PRODUCT_PORTS: Final = {
    ("nats", 8222): "monitoring",
    ("nats", 6222): "cluster",
    ("rabbitmq", 15672): "management",
    ("elasticsearch", 9300): "transport",
    ("clickhouse", 9000): "native",
}
# What each container port of a product with several ports is, for ports no source names:
# compose's `5500:1080` of maildev is its web UI, `1025:1025` its SMTP port.
PORT_ROLES: Final = {
    "maildev": {1025: "smtp", 1080: "http"},
    "mailhog": {1025: "smtp", 8025: "http"},
    "mailpit": {1025: "smtp", 8025: "http"},
    "rabbitmq": {5672: "amqp", 15672: "management"},
    "elasticsearch": {9200: "http", 9300: "transport"},
    "nats": {4222: "nats", 8222: "monitoring", 6222: "cluster"},
    "minio": {9000: "s3", 9001: "console"},
}
# An image's repository name (the last part of its path, without tag or digest) -> its
# product, where the name is not the product's own: `postgis/postgis`,
# `bitnami/postgresql`, `confluentinc/cp-kafka`, `docker.elastic.co/.../elasticsearch`...
IMAGE_NAMES: Final = {
    "postgresql": "postgres",
    "postgis": "postgres",
    "timescaledb": "postgres",
    "timescaledb-ha": "postgres",
    "pgvector": "postgres",
    "mysql-server": "mysql",
    "mongodb": "mongo",
    "mongodb-community-server": "mongo",
    "redis-stack": "redis",
    "redis-stack-server": "redis",
    "valkey": "redis",
    "keydb": "redis",
    "cp-kafka": "kafka",
    "cp-server": "kafka",
    "redpanda": "kafka",
    "cp-zookeeper": "zookeeper",
    "opensearch": "elasticsearch",
    "clickhouse-server": "clickhouse",
    "grafana-oss": "grafana",
    "grafana-enterprise": "grafana",
}
# A product's service may carry one of these after its name (postgres-db, redis2).
NAME_SUFFIXES: Final = frozenset({"db", "server", "cache", "primary", "replica", "broker"})


def image_repository(image: str) -> str:
    """The repository name of an image reference: `registry:5000/team/postgres:16@sha256:..`
    -> `postgres`."""
    path = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return path.split(":", 1)[0].lower()


@lru_cache(maxsize=1 << 16)  # asked for each service's image by the vote and by each view
def product_of_image(image: str | None) -> str | None:
    """The product an image is, by its repository name (`postgres:16`, `bitnami/redis`)."""
    if not image:
        return None
    name = image_repository(image)
    return name if name in PRODUCTS else IMAGE_NAMES.get(name)


def _by_first_letter() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for product in PRODUCTS:
        found[product[0]] = (*found.get(product[0], ()), product)
    return found


# The products a name may start with, by its first letter, in the order of PRODUCTS: one
# lookup for a name of no product (most names) rather than a try of every product.
_BY_FIRST_LETTER: Final = _by_first_letter()


@lru_cache(maxsize=1 << 16)  # asked for each service's name several times per import
def product_of_name(key: str) -> str | None:
    """The product a service's name says it is (`postgres`, `postgres-db`, `redis2`)."""
    key = normalize_name(key)
    for product in _BY_FIRST_LETTER.get(key[:1], ()):
        rest = key.removeprefix(product)
        if rest != key and (not rest or rest.isdigit() or rest in NAME_SUFFIXES):
            return product
    return None


@lru_cache(maxsize=1 << 16)  # asked once per view of an import (two), for each service
def roles_of_image(image: str | None) -> dict[int, str] | None:
    """The roles of the ports of the product an image is (`PORT_ROLES`), by the product's
    name or else by the image's repository name; None for most images."""
    product = product_of_image(image) or (image_repository(image) if image else "")
    return PORT_ROLES.get(product)


def product_of(image: str | None, key: str) -> str | None:
    """The product a service is: by its image, else by its name."""
    return product_of_image(image) or product_of_name(key)


def main_port_name(product: str | None) -> str | None:
    """The name of a product's main port (`postgres` -> `postgresql`)."""
    return PRODUCTS.get(product) if product else None


def other_port_name(product: str | None, number: int) -> str:
    """The name of another port of a service: the product's name for that number, else
    `port-<number>`."""
    return PRODUCT_PORTS.get((product or "", number)) or f"port-{number}"
