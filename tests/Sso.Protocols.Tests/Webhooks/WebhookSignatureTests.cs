using System.Text;
using Sso.Protocols.Webhooks;

namespace Sso.Protocols.Tests.Webhooks;

public class WebhookSignatureTests
{
    private const string Secret = "whsec_test";
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"evt_1"}""");

    [Fact]
    public void Verifies_a_signature_it_made()
    {
        var header = WebhookSignature.Sign(Secret, Now, Body);
        Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", header);
        Assert.Equal(Now, WebhookSignature.Verify(Secret, header, Body, Now.AddSeconds(30), WebhookSignature.DefaultTolerance).Value);
    }

    [Fact]
    public void Accepts_any_matching_v1_when_several_are_sent()
    {
        var header = WebhookSignature.Sign(Secret, Now, Body) + ",v1=" + new string('0', 64);
        Assert.True(WebhookSignature.Verify(Secret, header, Body, Now, WebhookSignature.DefaultTolerance).IsSuccess);
    }

    public static TheoryData<string, Func<string, string>, byte[], int, WebhookSignatureFailure> Rejections => new()
    {
        { "a changed body", h => h, Encoding.UTF8.GetBytes("""{"id":"evt_2"}"""), 0, WebhookSignatureFailure.Mismatch },
        { "another secret", h => h.Replace("v1=", "v1=") , Body, 0, WebhookSignatureFailure.Mismatch },
        { "a replay after the window", h => h, Body, 301, WebhookSignatureFailure.OutsideReplayWindow },
        { "a timestamp from the future", h => h, Body, -301, WebhookSignatureFailure.OutsideReplayWindow },
        { "a changed timestamp", h => "t=" + (Now.ToUnixTimeSeconds() + 1) + h[h.IndexOf(',')..], Body, 0, WebhookSignatureFailure.Mismatch },
        { "no timestamp", h => h[(h.IndexOf(',') + 1)..], Body, 0, WebhookSignatureFailure.Malformed },
        { "no signature", h => h[..h.IndexOf(',')], Body, 0, WebhookSignatureFailure.Malformed },
        { "garbage", _ => "garbage", Body, 0, WebhookSignatureFailure.Malformed },
        { "an empty header", _ => "", Body, 0, WebhookSignatureFailure.Malformed },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Rejects(string @case, Func<string, string> mutate, byte[] body, int secondsLater, WebhookSignatureFailure expected)
    {
        var secret = @case == "another secret" ? "whsec_other" : Secret;
        var header = mutate(WebhookSignature.Sign(Secret, Now, Body));
        var result = WebhookSignature.Verify(secret, header, body, Now.AddSeconds(secondsLater), WebhookSignature.DefaultTolerance);
        Assert.False(result.IsSuccess);
        Assert.Equal(expected, result.Error);
    }
}
