"""Plans the dashboard tests push: a small shop (two hosts, ranges, a reservation, a
privileged port that `check` warns about) and another tenant's system."""

from __future__ import annotations

SHOP = """\
system: shop
hosts:
  app-1: {address: 10.0.0.11}
  db-1: {address: 10.0.0.21}
ranges:
  web: {ports: 8000-8019, category: web}
  data: {ports: 5400-5409, category: data, host: db-1}
reserved:
  - {ports: 8010-8011, reason: legacy admin consoles, host: app-1}
services:
  gateway:
    host: app-1
    category: edge
    exposure: public
    ports: {http: 80, admin: 8001}
    depends_on: [api]
  api:
    host: app-1
    category: web
    ports: {http: 8000, metrics: 8002}
    depends_on: [postgres, cache]
  worker:
    host: app-1
    category: jobs
    status: planned
    ports: {metrics: 8003}
    depends_on: [postgres]
  postgres:
    host: db-1
    category: data
    ports: {postgresql: 5400}
  cache:
    host: db-1
    category: data
    ports: {redis: 5401}
"""

SHOP_2 = SHOP.replace("ports: {metrics: 8003}", "ports: {metrics: 8004}")

RIVAL = """\
system: hushhush
services:
  vault-keeper:
    category: secrets
    ports: {http: 9200}
"""
