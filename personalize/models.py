"""What Omakase knows of each shopper: what they told us (facts, each under the consent it was given
with) and what their orders say (the profile, derived, recomputed by workers).

Shoppers are keyed by their Shopify customer id, as orders carry it, so a profile and a fact never
wait for the customer row to arrive. Told outranks inferred everywhere (personalize.profiles).
"""

from django.db import models

from shop_app.tenancy import ShopOwned


class FactSource(models.TextChoices):
    STOREFRONT = "storefront", "The shopper, on the storefront"
    QUIZ = "quiz", "The shopper, in the quiz"
    ADMIN = "admin", "The merchant, in the admin"
    IMPORT = "import", "Imported"
    NEWSLETTER = "newsletter", "The shopper, confirming a newsletter topic"


class ConsentRecord(ShopOwned):
    """The consent a shopper gave when they told us something: the exact words they saw, in which
    language and version, when, and where from (the IP address and user agent kept only as keyed
    hashes: enough to show it was this browser, not enough to track anyone)."""

    customer_shopify_id = models.BigIntegerField()
    text = models.TextField()
    version = models.CharField(max_length=32)
    language = models.CharField(max_length=16)
    source = models.CharField(max_length=16, choices=FactSource.choices)
    given_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "customer_shopify_id"], name="consent_by_shopper")]


class Fact(ShopOwned):
    """One statement of a fact by a shopper (or the merchant on their behalf). Rows are only ever
    added: a new value supersedes the older row, a withdrawal is a row of its own (`withdrawn`,
    value null), so the history of what was told, and under which consent, stays readable. The
    current value of a fact is its newest row, unless that row withdraws it."""

    class Name(models.TextChoices):
        BIRTHDAY = "birthday", "Birthday (month and day)"
        GENDER = "gender", "Gender"
        REGION = "region", "Home region"
        SIZES = "sizes", "Sizes per product type"
        FAVOURITE_CATEGORIES = "favourite_categories", "Favourite categories"
        EXCLUDED_CATEGORIES = "excluded_categories", "Categories not for me"
        TOPICS = "topics", "Newsletter topics"
        QUIZ = "quiz", "Quiz answers"

    customer_shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=32, choices=Name.choices)
    value = models.JSONField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=FactSource.choices)
    consent = models.ForeignKey(
        ConsentRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stated_at = models.DateTimeField()

    class Meta:
        indexes = [
            # personalize.facts reads a shopper's newest row per fact.
            models.Index(fields=["shop", "customer_shopify_id", "name", "-stated_at"], name="fact_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn=False) | models.Q(value__isnull=True),
                name="fact_withdrawal_has_no_value",
            ),
        ]


class ProfileSettings(ShopOwned):
    """What the merchant sets about profiles."""

    # How fast tastes fade: a purchase this many days old weighs half as much as one made today.
    taste_half_life_days = models.PositiveIntegerField(default=180)
    # Write segment, predicted value and churn risk to the shop's customer metafields.
    metafields_sync = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="profile_settings_one_per_shop")]


class ShopProfileModel(ShopOwned):
    """What every profile of a shop is measured against, fitted by the full recompute: the score
    breakpoints (quintiles of recency, frequency and spend), the price bands, the typical gap
    between orders and the repeat-purchase model's parameters. A profile is a pure function of the
    shopper's orders, their facts and these parameters."""

    parameters = models.JSONField()
    fitted_at = models.DateTimeField()
    customers = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="profile_model_one_per_shop")]


class Profile(ShopOwned):
    """A shopper as their orders describe them, derived by personalize.profiles (never edited)."""

    class Segment(models.TextChoices):
        NONE = "", "No orders yet"
        NEW = "new", "New"
        ACTIVE = "active", "Active"
        LOYAL = "loyal", "Loyal"
        CHAMPION = "champion", "Champion"
        AT_RISK = "at_risk", "At risk"
        LAPSED = "lapsed", "Lapsed"
        ONE_TIME = "one_time", "One-time"

    customer_shopify_id = models.BigIntegerField()
    as_of = models.DateField(help_text="The day the time-dependent parts (recency, fading tastes) refer to.")
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    order_count = models.PositiveIntegerField(default=0)
    # Net of refunds, in the shop's currency.
    total_spent = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    average_order_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    recency_score = models.PositiveSmallIntegerField(default=0)
    frequency_score = models.PositiveSmallIntegerField(default=0)
    monetary_score = models.PositiveSmallIntegerField(default=0)
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    typical_days_between_orders = models.FloatField(null=True, blank=True)
    expected_next_order_on = models.DateField(null=True, blank=True)
    predicted_orders_365d = models.FloatField(default=0)
    predicted_value_365d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    churn_risk = models.FloatField(null=True, blank=True)
    # {"product_type": {"Shirts": 0.61, ...}, "vendor": ..., "tag": ..., "collection": ...}: shares
    # of the faded weight of what was kept, the strongest first.
    affinities = models.JSONField(default=dict, blank=True)
    # {"Shirts": {"size": "M", "quantity": 3}}: the size most kept per product type.
    sizes = models.JSONField(default=dict, blank=True)
    price_band = models.CharField(max_length=16, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    region_code = models.CharField(max_length=16, blank=True)
    region_source = models.CharField(max_length=32, blank=True)
    climate_band = models.CharField(max_length=16, blank=True)
    hemisphere = models.CharField(max_length=8, blank=True)
    computed_at = models.DateTimeField()
    # What the shop's customer metafields should say (personalize.shopify_sync) and what was last
    # written there: a profile whose two differ is waiting to be written.
    metafields_value = models.CharField(max_length=128, blank=True)
    metafields_written = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer_shopify_id"], name="profile_one_per_shopper"),
        ]
        indexes = [models.Index(fields=["shop", "segment"], name="profile_by_segment")]

    def __str__(self) -> str:
        return f"profile of customer {self.customer_shopify_id}"


class ProfileRun(ShopOwned):
    """A full recompute of a shop's profiles, with its progress (the admin shows it)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    customers_total = models.PositiveIntegerField(default=0)
    customers_done = models.PositiveIntegerField(default=0)
    # The next customer (Shopify id) to compute: the run resumes there after a worker dies.
    next_customer_shopify_id = models.BigIntegerField(default=0)


# --- Recommendations (personalize.recommend: the engine; personalize.picks: precompute and serving) ---


class RecommendationSettings(ShopOwned):
    """What the merchant decides about recommendations."""

    # The share of each list kept for products outside the shopper's usual categories.
    discovery_share = models.FloatField(default=0.1)
    # Shown first, in this order, wherever they can be bought; never shown. Shopify product ids.
    pinned_product_ids = models.JSONField(default=list, blank=True)
    excluded_product_ids = models.JSONField(default=list, blank=True)
    # How many items each block shows at most, by block name; the default elsewhere.
    block_limits = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop"], name="recommendation_settings_one_per_shop"),
            models.CheckConstraint(
                condition=models.Q(discovery_share__gte=0, discovery_share__lte=0.5),
                name="recommendation_discovery_share_range",
            ),
        ]


class Dismissal(ShopOwned):
    """A shopper said "not for me" to a product: it is never proposed to them again."""

    customer_shopify_id = models.BigIntegerField()
    product_shopify_id = models.BigIntegerField()
    dismissed_at = models.DateTimeField()
    # Why, when the shopper said: style, size, price or taste.
    reason = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "customer_shopify_id", "product_shopify_id"],
                name="dismissal_once_per_product",
            )
        ]


class CandidateList(ShopOwned):
    """Precomputed candidates for one audience of a shop, best first; serving re-ranks them.

    Audiences: `shopper:<customer id>`, `trending` (the whole shop), `trending:<country>` and
    `related:<product id>` (bought together with a product). Each candidate is
    `{"product": id, "score": float, "kind": str, "evidence": {...}}` (personalize.picks)."""

    audience = models.CharField(max_length=64)
    candidates = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "audience"], name="candidates_one_per_audience")
        ]


class ServedPicks(ShopOwned):
    """A block's picks as serving last ranked them for one signed-in shopper, kept so that their
    next page reads them instead of ranking again (personalize.picks). Ranked for a day (the
    season is the day's) under the merchant's rules of the time (`rules`, their fingerprint);
    serving checks each pick is still active and in stock before showing it, and whatever changes
    what the shopper would be shown (their candidates, profile, facts, browsing, a "not for me")
    deletes their rows.

    `picks` are `{"product", "variant", "kind", "evidence"}`, in order; `orders` the names of the
    orders their reasons cite, by id."""

    customer_shopify_id = models.BigIntegerField()
    block = models.CharField(max_length=32)
    limit = models.PositiveSmallIntegerField()
    ranked_on = models.DateField()
    rules = models.CharField(max_length=32)
    picks = models.JSONField(default=list)
    orders = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "customer_shopify_id", "block", "limit"], name="served_picks_one_per_block"
            )
        ]


# --- The quiz and storefront feedback --------------------------------------------------------------


class Quiz(ShopOwned):
    """The merchant's quiz: at most ten questions, each option mapping to product types and tags
    (personalize.quiz validates `questions`: [{"id", "text", "kind": "single"|"multiple",
    "options": [{"id", "label", "product_types": [...], "tags": [...]}]}])."""

    title = models.CharField(max_length=255)
    questions = models.JSONField(default=list)
    published = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="quiz_one_per_shop")]


class QuizAnswer(ShopOwned):
    """A visitor's answers, with the consent they gave. A guest's are kept against their visitor id
    and become the customer's facts when they sign in (personalize.quiz)."""

    visitor = models.CharField(max_length=64, blank=True)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    answers = models.JSONField()
    consent_text = models.TextField()
    consent_version = models.CharField(max_length=32)
    consent_language = models.CharField(max_length=16)
    answered_at = models.DateTimeField()
    # Set once the answers became the signed-in customer's facts.
    joined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "visitor"], name="quiz_answer_by_visitor")]


class StorefrontEvent(ShopOwned):
    """What a shopper did with a block: an impression, a click, an add to cart, a "not for me"
    (with its reason). Clicks attribute later orders to their block."""

    class Kind(models.TextChoices):
        IMPRESSION = "impression"
        CLICK = "click"
        ADD_TO_CART = "add_to_cart"
        DISMISS = "dismiss"

    visitor = models.CharField(max_length=64, blank=True)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    block = models.CharField(max_length=32)
    product_shopify_id = models.BigIntegerField()
    reason = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The overview's rollups and attribution read a shop's events by time.
            models.Index(fields=["shop", "kind", "at"], name="storefront_event_by_kind"),
        ]


# --- Browsing signals from the web pixel (personalize.pixel) ------------------------------------


class PixelSettings(ShopOwned):
    """The shop's web pixel: the key its settings carry (the ingest endpoint knows the shop by it;
    it is public, on every storefront page, so it names the shop and proves nothing more), the
    storefront origins allowed to post, and the web pixel Shopify created with these settings."""

    key = models.CharField(max_length=64, unique=True)
    # The storefront's primary domain as Shopify reported it at activation (`https://shop.example`),
    # its one origin besides https://{shop domain}: Shopify redirects the shop's other domains there.
    primary_origin = models.CharField(max_length=255, blank=True, db_index=True)
    web_pixel_gid = models.CharField(max_length=128, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="pixel_settings_one_per_shop")]


class BrowsingEvent(ShopOwned):
    """One standard event the pixel saw, with analytics consent: a product or collection viewed,
    a search, an add to cart. Keyed by Shopify's client id (the browser); the customer id is set
    when the pixel knew the customer, or later, when that browser is seen signed in."""

    class Kind(models.TextChoices):
        PRODUCT_VIEWED = "product_viewed"
        COLLECTION_VIEWED = "collection_viewed"
        SEARCH_SUBMITTED = "search_submitted"
        PRODUCT_ADDED_TO_CART = "product_added_to_cart"

    event_id = models.CharField(max_length=64)
    client_id = models.CharField(max_length=64)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    product_shopify_id = models.BigIntegerField(null=True, blank=True)
    collection_shopify_id = models.BigIntegerField(null=True, blank=True)
    query = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A batch the browser sends again (keepalive after a retry) is stored once.
            models.UniqueConstraint(fields=["shop", "event_id"], name="browsing_event_once"),
        ]
        indexes = [
            # personalize.picks reads a shopper's recent views; linking reads a browser's events.
            models.Index(fields=["shop", "customer_shopify_id", "-at"], name="browsing_by_customer"),
            models.Index(fields=["shop", "client_id"], name="browsing_by_client"),
        ]
