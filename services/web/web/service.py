"""The web service: Beat's pages (HTML) over the four services' public APIs.

One class composed of endpoint groups, one module each (as `PlatformEndpoints` is for every
service's index, health and metrics): each group's methods are entrypoints only (read the request,
call the APIs with the person's own credentials, render). The groups' pages are declared alike
(`web.page.page_group`); the feature-to-file map in README says where each lives.
"""

from __future__ import annotations

from beat_shared.platform import PlatformEndpoints
from web.agency import AgencyInbox
from web.alerts import BeatAlerts
from web.alerts_by_email import AlertsByEmail
from web.api import Apis
from web.follow import FollowPages
from web.home import HomePages
from web.inbox import PersonalInbox
from web.page import Pages
from web.problems_public import ResidentProblems
from web.sign_in import SignIn
from web.staff import OfficerConsole
from web.staff_broadcasts import BroadcastConsole
from web.staff_meetings import MeetingConsole
from web.staff_problems import ProblemConsole
from web.staff_referrals import ReferralConsole
from web.supervisor import SupervisorConsole
from web.voice import VoicePages


class WebService(
    HomePages,  # before PlatformEndpoints: its `index` is the home page
    VoicePages,
    FollowPages,
    SignIn,
    BeatAlerts,
    AlertsByEmail,
    OfficerConsole,
    ReferralConsole,
    MeetingConsole,
    ProblemConsole,
    ResidentProblems,
    BroadcastConsole,
    PersonalInbox,
    SupervisorConsole,
    AgencyInbox,
    PlatformEndpoints,
):
    """Server-rendered pages for residents; every authorization decision stays with the
    service that owns the data (the pages carry the person's own credentials to it)."""

    name = "web"

    apis = Apis()
    pages = Pages()
