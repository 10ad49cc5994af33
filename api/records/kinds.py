"""The kinds of ledger entry, named once for every domain that writes or reads them."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    # loading at the warehouse (per crew)
    LOADING_COUNTED = "loading_counted"  # the keeper's count against the picking list
    LOADING_SIGNED = "loading_signed"  # the crew leader signs the count
    LOADING_RECONCILED = "loading_reconciled"  # what was missing or extra, who agreed
    DEPARTED = "departed"  # the crew left the warehouse
    RETURNED = "returned"  # back at the warehouse
    # at the customer (per order)
    ARRIVED = "arrived"
    DELIVERED = "delivered"  # counts per item
    FAILED = "failed"  # reason and outcome
    SIGNED_OFF = "signed_off"  # the customer's signature
    SERVICE_REPORT = "service_report"  # installation or repair, signed
    PHOTO = "photo"
    # cash
    COLLECTED = "collected"
    DEPOSITED = "deposited"
    HANDED_TO_FINANCE = "handed_to_finance"
    RECONCILED = "reconciled"  # finance's end-of-day reconciliation
    CORRECTION_ACCEPTED = "correction_accepted"  # finance accepts a corrected money record
    # goods taken back for repair (客户商品进出登记簿), per receipt, in this order
    GOODS_IN = "goods_in"  # taken back; receipt issued, the customer signed the report
    REPAIR_CARD = "repair_card"  # repaired: hours and parts (修护卡)
    GOODS_INSPECTED = "goods_inspected"  # a supervisor passed the repair
    REPAIR_RETURN_BOOKED = "repair_return_booked"  # the return visit booked
    GOODS_OUT = "goods_out"  # returned, the customer signed; receipt closed, charge stated
    # paid service (per ticket visit)
    FEE_APPROVED = "fee_approved"  # a manager's discount or waiver of the visit's fee
    FEE_COLLECTED = "fee_collected"  # the fee taken on site, cash or transfer


# The register's steps, per receipt, in this order; the next step builds on each.
REGISTER = (
    Kind.GOODS_IN,
    Kind.REPAIR_CARD,
    Kind.GOODS_INSPECTED,
    Kind.REPAIR_RETURN_BOOKED,
    Kind.GOODS_OUT,
)
# A correction is an entry of the same kind as the one it corrects, pointing at it.
# These are never corrected: a signature stays as signed, a decision as taken, goods stay
# where the register moved them, and a fee is charged as quoted and approved (a wrong one is
# a mismatch finance settles).
NEVER_CORRECTED = frozenset(
    {
        Kind.SIGNED_OFF,
        Kind.SERVICE_REPORT,
        Kind.RECONCILED,
        Kind.CORRECTION_ACCEPTED,
        Kind.FEE_APPROVED,
        Kind.FEE_COLLECTED,
        *REGISTER,
    }
)
# Money: a crew may not correct these (relabelling cash as a transfer would empty the truck
# on paper); finance corrects them, and accepts each correction before the day balances.
MONEY = frozenset({Kind.COLLECTED, Kind.DEPOSITED, Kind.HANDED_TO_FINANCE})
