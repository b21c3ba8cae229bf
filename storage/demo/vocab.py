"""Word lists for plausible names: companies, people, industries, the CSM team, features.

Kept apart from the generator so the lists can grow without touching any logic.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Comma-separated words (multi-word entries allowed) as a tuple."""
    return tuple(word.strip() for word in text.split(",") if word.strip())


COMPANY_PREFIXES = _words(
    """Acme, Apex, Arbor, Atlas, Aurora, Beacon, Birch, Blue Harbor, Bolt, Brightline,
    Cadence, Canopy, Cascade, Cedar, Cobalt, Copper, Crest, Delta, Driftwood, Echo, Ember,
    Evergreen, Falcon, Fieldstone, Flint, Foxglove, Granite, Greenfield, Harbor, Hawthorne,
    Helix, Highland, Horizon, Indigo, Iron Gate, Juniper, Keystone, Kestrel, Lakeshore,
    Lantern, Larkspur, Lighthouse, Linden, Lumen, Maple, Meridian, Mesa, Monarch, Northwind,
    Nova, Oakridge, Orchid, Pacific, Paragon, Pinnacle, Pioneer, Polaris, Prairie, Quarry,
    Quartz, Redwood, Ridgeline, Riverbend, Sable, Sage, Sandstone, Sapphire, Sentinel, Sierra,
    Silverline, Solstice, Spruce, Starling, Stonebridge, Summit, Sundial, Tallgrass,
    Tidewater, Timber, Trailhead, True North, Tundra, Union, Vantage, Velvet, Verdant, Vista,
    Wavecrest, Westbrook, Whitestone, Willow, Windmill, Yellowstone, Zenith"""
)

COMPANY_CORES = _words(
    """Analytics, Bio, Capital, Cloud, Data, Dynamics, Energy, Freight, Foods, Health, Labs,
    Logistics, Media, Medical, Networks, Robotics, Software, Systems, Supply, Telecom,
    Therapeutics, Travel, Ventures, Works, Learning, Retail, Insurance, Payments, Security,
    Manufacturing"""
)

# Most company names carry no legal suffix.
COMPANY_SUFFIXES = ("Inc.", "LLC", "Group", "Co.", "Corp.", "Ltd.", "", "", "", "", "", "")

INDUSTRIES = _words(
    """Software, Financial Services, Healthcare, Retail, Manufacturing, Logistics, Education,
    Media, Telecommunications, Professional Services, Energy, Insurance, Hospitality,
    Real Estate, Non-profit"""
)

PLANS = {
    "smb": ("starter", "starter", "professional"),
    "mid_market": ("professional", "professional", "business"),
    "enterprise": ("business", "enterprise", "enterprise"),
}

FIRST_NAMES = _words(
    """Aisha, Alex, Amara, Ana, Andre, Ben, Camila, Carlos, Chloe, Daniel, Deepa, Diego,
    Elena, Emma, Ethan, Fatima, Felix, Grace, Hana, Hugo, Ines, Isaac, Jade, James, Jin,
    Jonas, Julia, Kai, Karen, Kofi, Lars, Leah, Leo, Lina, Lucas, Maria, Marco, Mei, Mia,
    Nadia, Nina, Noah, Olga, Omar, Oscar, Priya, Rafael, Rosa, Ryan, Sara, Sofia, Sam, Tariq,
    Tessa, Theo, Uma, Victor, Wei, Yara, Yusuf, Zoe, Zara"""
)

LAST_NAMES = _words(
    """Adams, Ahmed, Alvarez, Andersen, Baker, Bauer, Brooks, Campbell, Chen, Cohen, Costa,
    Diaz, Dubois, Edwards, Evans, Fischer, Garcia, Gupta, Hansen, Hughes, Ito, Jensen, Kim,
    Kowalski, Larsen, Lee, Lopez, Martin, Moreau, Murphy, Nakamura, Nguyen, Novak, Okafor,
    Olsen, Patel, Perez, Petrov, Quinn, Rossi, Santos, Schmidt, Silva, Singh, Svensson,
    Tanaka, Torres, Walsh, Weber, Williams, Wong, Yamamoto, Zhang"""
)

# The customer-success team; owner emails are first.last@example.com.
CSM_NAMES = _words(
    """Maya Chen, Daniel Okafor, Priya Raman, Lucas Moreau, Sofia Lindqvist, James Whitfield,
    Aiko Tanaka, Omar Haddad, Elena Petrova, Noah Brennan, Grace Adeyemi, Mateo Rossi,
    Hannah Berg, Ravi Kapoor, Lena Fischer, Tomas Novak"""
)

# Accounts one CSM carries, by segment (enterprise books are small, SMB books large).
BOOK_SIZE = {"enterprise": 20, "mid_market": 50, "smb": 75}

# Product events. Core features are what every customer uses; advanced features are the
# higher-tier ones whose adoption marks a deepening (and expanding) customer.
CORE_FEATURES = ("report_view", "dashboard_view", "search", "export", "comment")
ADVANCED_FEATURES = (
    "dashboard_create",
    "workflow_automation",
    "alert_rule",
    "custom_field",
    "sso_config",
    "api_call",
    "integration_sync",
)
# Advanced features that run unattended, written as account-level rows (empty contact_id).
ACCOUNT_LEVEL_FEATURES = ("api_call", "integration_sync")
USER_FEATURES = CORE_FEATURES + tuple(
    feature for feature in ADVANCED_FEATURES if feature not in ACCOUNT_LEVEL_FEATURES
)
