"""Import every domain's models so SQLModel.metadata knows all tables."""

from brokerage.accounts.models import Council, CouncilDistrict, Role, SignInThrottle, User  # noqa: F401
from brokerage.clusters.models import Cluster, ClusterDistrict, ClusterKind, ClusterStatus, Membership, MembershipStatus, Proposal, Vote  # noqa: F401
from brokerage.holders.models import Holder, Representation, SensitiveDetail  # noqa: F401
from brokerage.providers.models import PendingApplication, Provider, ProviderKind, VettingItem, VettingKind  # noqa: F401
from brokerage.ledger.models import BalanceSnapshot, UnsealedEntry, EntryClose, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, PoolMonth, Posting  # noqa: F401
from brokerage.audit.models import AccessLog  # noqa: F401
from brokerage.matching.models import DemandLine, DemandLineChange, MatchAssignment, MatchGap, MatchRun  # noqa: F401
from brokerage.contracts.models import Contract, ContractEvent  # noqa: F401
from brokerage.payments.run_models import PaymentLine, PaymentLineTimesheet, PaymentRun  # noqa: F401
from brokerage.payments.models import ConnectedPayout, StripeEvent, TopUp  # noqa: F401
from brokerage.timesheets.models import Timesheet, TimesheetApprover, Visit  # noqa: F401
from brokerage.surplus.models import Clawback, SurplusFlag, SurplusRule  # noqa: F401
from brokerage.auditpack.models import AuditPackRequest  # noqa: F401
from brokerage.transparency.models import PublishedQuarter  # noqa: F401
from brokerage.invitations.models import Invitation, PasswordReset  # noqa: F401
from brokerage.mail.models import OutboxMessage  # noqa: F401
from brokerage.places.models import PostcodeCentroid  # noqa: F401
