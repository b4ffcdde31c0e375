"""Sending: each due issue created once, its deliveries created in chunks, and workers sending them.

- Beat runs `issues_create_due` every quarter hour: for each topic in season and each cadence its
  readers chose, the issue of the current period once the shop's send hour has come (the
  constraint on topic and period makes it once, however many beats or workers try).
- A shop job (ISSUE_DELIVERIES_JOB) creates one delivery row per confirmed, unpaused reader, in
  chunks (a cursor on the issue), and sends wake-ups for them.
- A worker woken for a row takes it and the ready rows of the same issue, a chunk at a time
  (work_claim_alike), and sends each chunk set-based: what its emails need is read once for the
  chunk (the topic's products, the readers' profiles, facts, dismissals and candidate lists:
  personalize.picks.picks_within_many), the emails are written, the shop's rate is taken for the
  chunk at once (newsletters.rate), and the messages go over the one SMTP connection the worker
  opened, HAND_OFF_SIZE at a time: those rows record "handed off" just before their messages go
  to SMTP, in the commit that records the group before them "done". A worker killed in between
  leaves at most HAND_OFF_SIZE rows the sweeper frees, and the next worker records them as
  uncertain instead of sending them again: an email is never sent twice. (A commit a row would be
  exact to the row, and cost more than writing and sending the email.)
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from newsletters.content import (
    IssueContext,
    IssueReader,
    confirmation_email,
    issue_context,
    issue_email,
    issue_emails,
)
from newsletters.deliveries import DELIVERY_WORK, delivery_enqueue
from newsletters.models import (
    Delivery,
    DeliveryKind,
    Issue,
    NewsletterSettings,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Topic,
)
from newsletters.periods import in_season, period_key, period_start
from newsletters.rate import send_rate_wait
from newsletters.subscriptions import subscriber_suppress, subscriptions_pending
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop, WorkStatus
from shop_app.work import (
    Outcome,
    PermanentError,
    RunResult,
    WorkIgnored,
    work_claim,
    work_claim_alike,
    work_run,
)

logger = logging.getLogger(__name__)

ISSUE_DELIVERIES_JOB = "newsletters.issue_deliveries"
# Delivery rows created per step of the job, and rows per wake-up (what one worker takes at once).
CHUNK_SIZE = 500
BATCH_SIZE = 50
# Batches one task sends at most before it hands the rest to a fresh wake-up.
BATCHES_PER_TASK = 10
# Rows handed off in one commit before their messages go: what a worker killed while sending may
# leave uncertain (never sent again, maybe not received).
HAND_OFF_SIZE = 10
# SMTP connections a task sends over side by side: a message takes four round trips (MAIL, RCPT,
# DATA, its text), each waiting for the server's reply, and another connection sends meanwhile.
SMTP_CONNECTIONS = 2


class SendRefused(PermanentError):
    """SMTP refused the message for good (5xx)."""


class HandOffUncertain(WorkIgnored):
    pass


# --- Issues --------------------------------------------------------------------------------------


def shop_local_now(shop: Shop, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(shop.timezone or "UTC"))


def issues_create_due(now: datetime | None = None) -> list[Issue]:
    """Beat: the issues whose time has come, each created once, its deliveries queued."""
    now = now or timezone.now()
    created: list[Issue] = []
    ready = NewsletterSettings.objects.filter(
        shop__installed_at__isnull=False, shop__uninstalled_at__isnull=True
    )
    for sending in ready.exclude(postal_address="").select_related("shop"):
        created.extend(shop_issues_create_due(sending.shop, sending, now))
    return created


def shop_issues_create_due(shop: Shop, sending: NewsletterSettings, now: datetime) -> list[Issue]:
    local = shop_local_now(shop, now)
    today = local.date()
    created = []
    readers = (
        Subscription.objects.for_shop(shop)
        .filter(status=SubscriptionStatus.CONFIRMED, topic__active=True)
        .values_list("topic_id", "cadence")
        .distinct()
    )
    topics = {topic.pk: topic for topic in Topic.objects.for_shop(shop).filter(active=True)}
    for topic_id, cadence in sorted(set(readers)):
        topic = topics[topic_id]
        start = period_start(cadence, today)
        send_at = datetime.combine(start, time(hour=sending.send_hour), tzinfo=local.tzinfo)
        if local < send_at or not in_season(topic, today):
            continue
        issue = issue_create(topic, cadence, start)
        if issue is not None:
            created.append(issue)
    return created


def issue_create(topic: Topic, cadence: str, start: date) -> Issue | None:
    """The issue of this topic, cadence and period, with the topic's sections as they are now,
    and the job that creates its deliveries; None if it exists already."""
    with transaction.atomic():
        issue, created = Issue.objects.get_or_create(
            shop=topic.shop,
            topic=topic,
            period=period_key(cadence, start),
            defaults={"cadence": cadence, "period_start": start, "sections": topic.sections},
        )
        if not created:
            return None
        job_enqueue(topic.shop, ISSUE_DELIVERIES_JOB, key=str(issue.pk), arguments={"issue_id": issue.pk})
    return issue


def issue_readers(issue: Issue) -> QuerySet[Subscription]:
    """The subscriptions an issue goes to: confirmed, at its cadence, not paused on its first day,
    to an address not suppressed."""
    return (
        Subscription.objects.for_shop(issue.shop)
        .filter(topic=issue.topic, cadence=issue.cadence, status=SubscriptionStatus.CONFIRMED)
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=issue.period_start))
        .filter(subscriber__suppressed_at__isnull=True)
    )


def issue_deliveries_handler(job: Job) -> float | None:
    """One chunk of an issue's deliveries, after its cursor, and their wake-ups. Runs again at
    once while chunks are full. Idempotent: the rows and the cursor commit together, and a row
    per reader and issue at most (the constraint)."""
    issue = (
        Issue.objects.for_shop(job.shop)
        .select_related("shop", "topic")
        .filter(pk=job.arguments["issue_id"])
        .first()
    )
    if issue is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        chunk = list(
            issue_readers(issue)
            .filter(pk__gt=issue.deliveries_cursor)
            .order_by("pk")
            .values_list("pk", "subscriber_id")[:CHUNK_SIZE]
        )
        Delivery.objects.bulk_create(
            [
                Delivery(
                    shop=issue.shop,
                    kind=DeliveryKind.ISSUE,
                    issue=issue,
                    subscription_id=subscription_id,
                    subscriber_id=subscriber_id,
                    available_at=now,
                )
                for subscription_id, subscriber_id in chunk
            ],
            ignore_conflicts=True,
        )
        done = len(chunk) < CHUNK_SIZE
        Issue.objects.for_shop(issue.shop).filter(pk=issue.pk).update(
            deliveries_cursor=chunk[-1][0] if chunk else issue.deliveries_cursor,
            deliveries_created_at=now if done else None,
        )
        if chunk:
            pending = list(
                Delivery.objects.for_shop(issue.shop)
                .filter(issue=issue, subscriber_id__in=[subscriber for _, subscriber in chunk])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            # One wake-up per batch: each worker woken takes a batch of the issue's ready rows.
            wake = pending[::BATCH_SIZE]
            transaction.on_commit(lambda: [delivery_enqueue(pk) for pk in wake])
    return None if done else 0.0


# --- Sending -------------------------------------------------------------------------------------


def deliveries_send(delivery_pk: int, connection: BaseEmailBackend | None = None) -> dict[int, RunResult]:
    """Send the row this worker was woken for, and with it the ready rows of the same issue (or
    of the same reader's confirmations), BATCH_SIZE at a time, over SMTP_CONNECTIONS connections
    (or the one given). Returns each row's outcome by pk."""
    first = Delivery.objects.filter(pk=delivery_pk).values("shop_id", "kind", "issue_id").first()
    if first is None:
        return {delivery_pk: RunResult(Outcome.NOT_CLAIMED)}
    alike = Delivery.objects.filter(shop_id=first["shop_id"], kind=first["kind"], issue_id=first["issue_id"])
    if first["kind"] == DeliveryKind.CONFIRMATION:
        alike = alike.filter(pk=delivery_pk)
    outcomes: dict[int, RunResult] = {}
    claimed = work_claim(DELIVERY_WORK, delivery_pk)
    if claimed is None:
        outcomes[delivery_pk] = RunResult(Outcome.NOT_CLAIMED)
    batch = ([claimed] if claimed else []) + work_claim_alike(
        DELIVERY_WORK, alike, BATCH_SIZE - (1 if claimed else 0)
    )
    contexts: dict[int, IssueContext] = {}
    # A confirmation is one email: one connection.
    count = 1 if first["kind"] == DeliveryKind.CONFIRMATION else SMTP_CONNECTIONS
    smtp = SmtpSenders(
        [connection]
        if connection
        else [get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) for _ in range(count)]
    )
    smtp.open()
    # Rows sent and not yet recorded done: the next group's hand-off records them (_group_send).
    unrecorded: list[int] = []
    try:
        for round_number in range(BATCHES_PER_TASK):
            if round_number:
                # Claimed only when this task sends it: a batch claimed and left would wait in
                # "processing" for the sweeper.
                batch = work_claim_alike(DELIVERY_WORK, alike, BATCH_SIZE)
            if not batch:
                break
            chunk_outcomes, unrecorded = chunk_send(batch, smtp, contexts, unrecorded)
            outcomes.update(chunk_outcomes)
            if len(batch) < BATCH_SIZE:
                break
        _sent_record(unrecorded)
    finally:
        smtp.close()
    if len(batch) < BATCH_SIZE:
        return outcomes
    # Full batches kept coming: a wake-up for the rest, and this task ends within its time limit.
    newest = alike.filter(status="pending").order_by("-pk").values_list("pk", flat=True).first()
    if newest is not None:
        delivery_enqueue(newest)
    return outcomes


def chunk_send(
    batch: list[Delivery],
    smtp: SmtpSenders,
    contexts: dict[int, IssueContext],
    unrecorded: list[int],
) -> tuple[dict[int, RunResult], list[int]]:
    """Send a chunk of claimed rows over the open connections: their emails written together, the
    shop's rate taken for the chunk at once, then handed off and sent HAND_OFF_SIZE at a time.
    Each row's outcome (sent, refused, uncertain, to retry) is recorded on it alone; the last
    group sent is returned unrecorded, for the next chunk's first hand-off to record with it (the
    caller records what is left at the end), like the rows `unrecorded` of the chunk before."""
    _related_attach(batch)
    messages = issue_messages(batch, contexts)
    written = [(row, message) for row in batch if (message := messages.get(row.pk)) is not None]
    # The rest one by one: confirmations, rows to skip or record as uncertain, and rows whose
    # email could not be written with the others.
    alone = [row for row in batch if messages.get(row.pk) is None]
    going = len(written) + sum(
        1 for row in alone if row.pk in messages or row.kind == DeliveryKind.CONFIRMATION
    )
    if going:
        send_rate_wait(batch[0].shop_id, going)
    outcomes: dict[int, RunResult] = {}
    for start in range(0, len(written), HAND_OFF_SIZE):
        group_outcomes, unrecorded = _group_send(written[start : start + HAND_OFF_SIZE], smtp, unrecorded)
        outcomes.update(group_outcomes)

    def send(delivery: Delivery) -> None:
        delivery_send(delivery, smtp.first, contexts)

    for row in alone:
        outcomes[row.pk] = work_run(DELIVERY_WORK, row, send)
    return outcomes, unrecorded


def _group_send(
    group: list[tuple[Delivery, EmailMultiAlternatives]], smtp: SmtpSenders, sent_before: list[int]
) -> tuple[dict[int, RunResult], list[int]]:
    """Record the group sent before done and hand off this one, in one commit; then send each of
    this group. Returns each row's outcome (a failure recorded on its row as work_run would) and
    the rows sent, which the next group's commit (or _sent_record) records done. So at any moment
    at most one group is handed off and not recorded: what a killed worker leaves uncertain."""
    pks = [row.pk for row, _ in group]
    now = timezone.now()
    changed = _record_and_hand_off(sent_before, pks, now)
    mine = set(pks)
    # Each row counts once: a count short of both lists says some row was not ours (another worker
    # handed it off), and which is read back.
    if changed < len(sent_before) + len(pks):
        mine = set(Delivery.objects.filter(pk__in=pks, handed_off_at=now).values_list("pk", flat=True))
    going = [(row, message) for row, message in group if row.pk in mine]
    failures = dict(
        zip([row.pk for row, _ in going], smtp.send([message for _, message in going]), strict=True)
    )
    outcomes: dict[int, RunResult] = {}
    sent = []
    for row, _ in group:
        failure = failures[row.pk] if row.pk in failures else HandOffUncertain("handed off by another worker")
        if failure is not None:
            failure = _send_failed(row, failure)
        if failure is None:
            sent.append(row.pk)
            outcomes[row.pk] = RunResult(Outcome.DONE)
        else:  # recorded on the row by the work piece's rules
            outcomes[row.pk] = work_run(DELIVERY_WORK, row, _raising(failure))
    return outcomes, sent


# The rows sent before, done, and this group's rows, handed off, in one statement (one round
# trip, one commit, no ORM compilation per group: this runs for every HAND_OFF_SIZE emails).
# Conditional, like a claim: a row another worker handed off keeps its mark and is not sent.
# Table and columns from the model, the values as parameters; {sent} and {group} are the
# placeholders of the two lists of ids.
_RECORD_AND_HAND_OFF = (
    "UPDATE {table} SET"
    " {status} = CASE WHEN {id} IN ({sent}) THEN %s ELSE {status} END,"
    " {processed_at} = CASE WHEN {id} IN ({sent}) THEN %s ELSE {processed_at} END,"
    " {last_error} = CASE WHEN {id} IN ({sent}) THEN '' ELSE {last_error} END,"
    " {handed_off_at} = CASE WHEN {id} IN ({group}) THEN %s ELSE {handed_off_at} END"
    " WHERE {status} = %s AND ({id} IN ({sent}) OR ({id} IN ({group}) AND {handed_off_at} IS NULL))"
)
_COLUMNS = {
    name: Delivery._meta.get_field(name).column  # type: ignore[union-attr]
    for name in ("id", "status", "processed_at", "last_error", "handed_off_at")
}


def _record_and_hand_off(sent: list[int], group: list[int], now: datetime) -> int:
    """_RECORD_AND_HAND_OFF: the number of rows it changed."""
    # An empty list is written NULL: `id IN (NULL)` holds for no row.
    sent_in = ", ".join(["%s"] * len(sent)) or "NULL"
    group_in = ", ".join(["%s"] * len(group)) or "NULL"
    statement = _RECORD_AND_HAND_OFF.format(
        table=Delivery._meta.db_table, sent=sent_in, group=group_in, **_COLUMNS
    )
    at = connection.ops.adapt_datetimefield_value(now)
    done, processing = WorkStatus.DONE.value, WorkStatus.PROCESSING.value
    with connection.cursor() as cursor:
        cursor.execute(statement, [*sent, done, *sent, at, *sent, *group, at, processing, *sent, *group])
        return int(cursor.rowcount)


def _sent_record(sent: list[int]) -> None:
    """The rows SMTP took, done."""
    if sent:
        Delivery.objects.filter(pk__in=sent, status=WorkStatus.PROCESSING).update(
            status=WorkStatus.DONE, processed_at=timezone.now(), last_error=""
        )


def _raising(error: Exception) -> Callable[[Delivery], None]:
    def work(_delivery: Delivery) -> None:
        raise error

    return work


def issue_messages(
    batch: list[Delivery], contexts: dict[int, IssueContext]
) -> dict[int, EmailMultiAlternatives | None]:
    """The emails of the chunk's issue rows that are to go, by row, written together (their picks
    made in one go). If that fails, each is None: each row then writes its own, and a row that
    cannot be written fails alone, with its reason."""
    readers: dict[int, list[IssueReader]] = {}
    for row in batch:
        if row.kind != DeliveryKind.ISSUE or row.handed_off_at is not None:
            continue
        try:
            context, reader = issue_reader(row, contexts)
        except WorkIgnored:
            continue  # recorded when the row runs
        readers.setdefault(context.issue.pk, []).append(reader)
    messages: dict[int, EmailMultiAlternatives | None] = {}
    for issue_id, chunk in readers.items():
        try:
            written: list[EmailMultiAlternatives | None] = list(issue_emails(contexts[issue_id], chunk))
        except Exception:
            logger.warning("newsletters: issue %s: writing a chunk failed; each row on its own", issue_id)
            written = [None] * len(chunk)
        messages.update(zip([reader.delivery_pk for reader in chunk], written, strict=True))
    return messages


def delivery_send(
    delivery: Delivery,
    smtp: BaseEmailBackend,
    contexts: dict[int, IssueContext],
    message: EmailMultiAlternatives | None = None,
) -> None:
    """Send one claimed row (its message written already, or here), at most once. The caller took
    the shop's rate for it."""
    if delivery.handed_off_at is not None:
        # A worker stopped after handing it to SMTP and before recording it: it may have gone.
        raise HandOffUncertain("a worker stopped while handing it to SMTP: it may have been sent")
    if message is None:
        message = delivery_message(delivery, contexts)
    rows = Delivery.objects.filter(pk=delivery.pk, handed_off_at__isnull=True)
    if not rows.update(handed_off_at=timezone.now()):
        raise HandOffUncertain("handed off by another worker")
    _hand_to_smtp(delivery, message, smtp)


def _hand_to_smtp(delivery: Delivery, message: EmailMultiAlternatives, smtp: BaseEmailBackend) -> None:
    """Give a handed-off row's message to SMTP (see _send_failed for what a failure means)."""
    failure = _smtp_attempt(message, smtp)
    if failure is not None:
        raise _send_failed(delivery, failure)


def _smtp_attempt(message: EmailMultiAlternatives, smtp: BaseEmailBackend) -> Exception | None:
    """Send one message: what went wrong, if anything. No database work (SmtpSenders' threads
    run this)."""
    try:
        smtp.send_messages([message])
    except Exception as error:  # what it means for the row is _send_failed's to say
        return error
    return None


def _send_failed(delivery: Delivery, error: Exception) -> Exception:
    """What to record for a handed-off row whose message SMTP did not take. What SMTP did not take
    is no longer handed off (it is tried again); what it may have taken stays so (never sent
    again); what it refused for good is refused (a recipient's refusal also suppresses them)."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        # The server went away mid-conversation: it may have taken the message. Not sent again.
        return HandOffUncertain("SMTP disconnected while sending: it may have been sent")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            Delivery.objects.filter(pk=delivery.pk).update(bounced_at=timezone.now())
            subscriber_suppress(delivery.subscriber, "bounce")
            return SendRefused(f"recipient refused ({codes[0]})")
    elif isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600:
        return SendRefused(f"SMTP refused the message ({error.smtp_code})")
    if isinstance(error, OSError):
        # Refused for now, connecting failed, or the connection broke before the message: not
        # taken, so tried again.
        Delivery.objects.filter(pk=delivery.pk).update(handed_off_at=None)
    return error


class SmtpSenders:
    """The SMTP connections a task sends over, side by side (SMTP_CONNECTIONS), each by a thread
    of its own while the task's thread waits. The threads only send: what a failure means for its
    row, the task's thread writes (_send_failed)."""

    def __init__(self, connections: list[BaseEmailBackend]) -> None:
        self.connections = connections
        self.first = connections[0]
        self.pool = ThreadPoolExecutor(max_workers=len(connections)) if len(connections) > 1 else None

    def open(self) -> None:
        for backend in self.connections:
            try:
                backend.open()
            except OSError:
                logger.warning("newsletters: SMTP unavailable; each delivery records it and is retried")
                return

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        for backend in self.connections:
            backend.close()

    def send(self, messages: list[EmailMultiAlternatives]) -> list[Exception | None]:
        """Each message's failure (None: SMTP took it), in order; the connections take turns."""
        failures: list[Exception | None] = [None] * len(messages)

        def send_share(backend: BaseEmailBackend, indexes: range) -> None:
            for index in indexes:
                failures[index] = _smtp_attempt(messages[index], backend)

        if self.pool is None or len(messages) < 2:
            send_share(self.first, range(len(messages)))
        else:
            count = len(self.connections)
            shares = [range(start, len(messages), count) for start in range(count)]
            list(self.pool.map(send_share, self.connections, shares))
        return failures


def delivery_message(delivery: Delivery, contexts: dict[int, IssueContext]) -> EmailMultiAlternatives:
    """The row's email, or WorkIgnored when there is nothing to send any more (the reader left,
    paused, or has nothing waiting to confirm)."""
    if delivery.kind == DeliveryKind.CONFIRMATION:
        pending = subscriptions_pending(delivery.subscriber)
        if not pending:
            raise WorkIgnored("nothing waits for confirmation")
        return confirmation_email(delivery.subscriber, pending, delivery.pk)
    context, reader = issue_reader(delivery, contexts)
    return issue_email(context, reader.subscriber, reader.subscription, reader.delivery_pk)


def issue_reader(delivery: Delivery, contexts: dict[int, IssueContext]) -> tuple[IssueContext, IssueReader]:
    """The issue and the reader an issue row is for, or WorkIgnored when it is not to go any more.
    `contexts` keeps each issue's shared context, read once per worker."""
    subscriber, subscription = delivery.subscriber, delivery.subscription
    if (
        delivery.issue_id is None
        or subscription is None
        or subscription.status != SubscriptionStatus.CONFIRMED
    ):
        raise WorkIgnored("the reader left the topic")
    if subscriber.suppressed_at is not None:
        raise WorkIgnored("the address is suppressed")
    context = contexts.get(delivery.issue_id)
    if context is None:
        issue = Issue.objects.select_related("shop", "topic__shop").get(pk=delivery.issue_id)
        context = contexts[issue.pk] = issue_context(issue, timezone.localdate())
    if subscription.paused_until is not None and subscription.paused_until > context.issue.period_start:
        raise WorkIgnored("the reader paused the topic")
    return context, IssueReader(subscriber, subscription, delivery.pk)


def _related_attach(batch: list[Delivery]) -> None:
    """What sending reads of each row, its subscription and its reader, in one query for the batch
    rather than two a row (and one more for readers without a subscription, confirmations, with
    their shop, which a confirmation names)."""
    subscriptions = Subscription.objects.select_related("subscriber").in_bulk(
        {row.subscription_id for row in batch if row.subscription_id}
    )
    readers = {subscription.subscriber_id: subscription.subscriber for subscription in subscriptions.values()}
    others = {row.subscriber_id for row in batch} - set(readers)
    if others:
        readers.update(Subscriber.objects.select_related("shop").in_bulk(others))
    for row in batch:
        row.subscriber = readers[row.subscriber_id]
        row.subscription = subscriptions.get(row.subscription_id) if row.subscription_id else None
