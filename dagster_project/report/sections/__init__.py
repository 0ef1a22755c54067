"""One module per report section; each turns its queries' results into blocks."""

from .campaigns import campaigns
from .channels import channels
from .customers import customers
from .demand import demand
from .overview import overview
from .quality import quality

SECTIONS = [overview, channels, campaigns, customers, demand, quality]

__all__ = ["SECTIONS"]
