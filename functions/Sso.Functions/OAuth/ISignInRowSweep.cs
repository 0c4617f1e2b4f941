namespace Sso.Functions.OAuth;

/// <summary>Rows of the sign-in flow kept by another folder (the SAML replay cache) that the cleanup timer removes once unusable.</summary>
public interface ISignInRowSweep
{
    Task<int> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
