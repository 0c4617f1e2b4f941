using Sso.Functions.OAuth;

namespace Sso.Functions.Tests.OAuth;

public class EmailDomainGuardTests
{
    [Theory]
    [InlineData(EmailDomainStanding.OfTheTenant, false, null)]
    [InlineData(EmailDomainStanding.OfTheTenant, true, null)]
    [InlineData(EmailDomainStanding.OfAnotherTenant, false, "email_domain_not_allowed")]
    [InlineData(EmailDomainStanding.OfAnotherTenant, true, "email_domain_not_allowed")]
    [InlineData(EmailDomainStanding.OfTheTenantUnverified, false, "email_domain_not_verified")]
    [InlineData(EmailDomainStanding.OfTheTenantUnverified, true, null)]
    [InlineData(EmailDomainStanding.Outside, false, "email_outside_tenant_domains")]
    [InlineData(EmailDomainStanding.Outside, true, null)]
    public void Decides_by_the_domain_standing_and_allowOutsideDomains(EmailDomainStanding standing, bool allowOutside, string? refusal) =>
        Assert.Equal(refusal, EmailDomainGuard.Decide(standing, allowOutside));
}
