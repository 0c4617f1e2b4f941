using Sso.Protocols.OAuth;

namespace Sso.Protocols.Tests.OAuth;

public class AuthenticationFreshnessTests
{
    // The client's request reached us at Requested; the IdP's answer arrives at Now.
    private static readonly DateTimeOffset Requested = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = Requested.AddMinutes(2);
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(3);

    public static TheoryData<string, StepUpDemand, DateTimeOffset?> Accepted => new()
    {
        { "no demand, no instant", StepUpDemand.None, null },
        { "no demand, a day-old session", StepUpDemand.None, Requested.AddDays(-1) },
        { "prompt=login, signed in after the request", new(true, null), Requested.AddSeconds(30) },
        { "prompt=login, signed in just inside the skew before it", new(true, null), Requested - Skew },
        { "prompt=login, no auth_time (OIDC does not require one)", new(true, null), null },
        { "max_age=300, signed in 4 minutes ago", new(false, 300), Now.AddMinutes(-4) },
        { "max_age=0, signed in just now", new(false, 0), Now },
        { "max_age=60, 60 s plus the skew ago", new(false, 60), Now - TimeSpan.FromSeconds(60) - Skew },
        { "both, fresh", new(true, 60), Requested.AddSeconds(10) },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Accepts_an_authentication_that_meets_the_demand(string name, StepUpDemand demand, DateTimeOffset? authenticatedAt)
    {
        var failure = AuthenticationFreshness.Check(demand, authenticatedAt, Requested, Now, Skew);
        Assert.True(failure is null, $"{name}: {failure}");
    }

    public static TheoryData<string, StepUpDemand, DateTimeOffset?, StepUpFailureKind> Refused => new()
    {
        { "prompt=login, the IdP reused a session from before the request", new(true, null), Requested - Skew - TimeSpan.FromSeconds(1), StepUpFailureKind.AuthenticationTooOld },
        { "prompt=login, an hour-old session", new(true, null), Requested.AddHours(-1), StepUpFailureKind.AuthenticationTooOld },
        { "max_age without auth_time", new(false, 300), null, StepUpFailureKind.AuthTimeMissing },
        { "max_age=0 without auth_time", new(false, 0), null, StepUpFailureKind.AuthTimeMissing },
        { "max_age=60, signed in 10 minutes ago", new(false, 60), Now.AddMinutes(-10), StepUpFailureKind.AuthenticationTooOld },
        { "max_age=60, one second past max_age and skew", new(false, 60), Now - TimeSpan.FromSeconds(61) - Skew, StepUpFailureKind.AuthenticationTooOld },
        { "both, max_age met but older than the request", new(true, 3600), Requested.AddMinutes(-30), StepUpFailureKind.AuthenticationTooOld },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refuses_a_stale_or_undated_authentication(string name, StepUpDemand demand, DateTimeOffset? authenticatedAt, StepUpFailureKind kind)
    {
        var failure = AuthenticationFreshness.Check(demand, authenticatedAt, Requested, Now, Skew);
        Assert.True(failure?.Kind == kind, $"{name}: {failure}");
    }

    [Fact]
    public void Names_the_instants_in_the_message()
    {
        var failure = AuthenticationFreshness.Check(new(true, null), Requested.AddHours(-1), Requested, Now, Skew)!;
        Assert.Contains("2026-12-06T11:00:00Z", failure.Message);
        Assert.Contains("2026-12-06T12:00:00Z", failure.Message);
    }
}
