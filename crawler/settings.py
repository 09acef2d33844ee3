"""The Scrapy settings module that `scrapy.cfg` points to, for `scrapy crawl news` in a checkout.

It resolves the configuration as the CLI does (`NEWSWATCH_CONFIG`, else `./newswatch.toml`, else
the built-in defaults) and owns no logic: the table of settings lives in `crawler.crawl_settings`.
"""

from crawler.config import load_config
from crawler.crawl_settings import build_settings

globals().update(build_settings(load_config()))
