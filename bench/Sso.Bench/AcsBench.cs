using System.Diagnostics;
using Sso.Protocols.Saml;
using Sso.Protocols.Tests.Saml;

namespace Sso.Bench;

// ACS validation cost per response through SamlResponseValidator.Validate (base64 decode, safe
// parse, signature verify, decrypt, the profile's rules): the CPU work of one sign-in at the ACS.
//   dotnet run -c Release --project bench/Sso.Bench -- acs [--responses 500] [--parallel 1]
// Every assertion ID is single-use at the endpoint, so N distinct responses (own Response and
// Assertion IDs, own AES key) are signed and encrypted up front and only validation is timed.
// The validator has no replay cache (the endpoint's is in Table Storage), so this excludes it,
// as it excludes the pending sign-in lookup and the code issue around it.
public static class AcsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var responses = IntArg("--responses", 500);
        var parallel = Math.Max(1, IntArg("--parallel", 1));
        const int warmup = 50;

        (string Name, Func<int, string> Build)[] cases =
        [
            ("signed assertion (RSA-SHA256)", i => TestIdp.ToBase64(TestIdp.SignAssertion(Distinct(i)))),
            ("signed + encrypted, AES-256-GCM + RSA-OAEP", i =>
                TestIdp.ToBase64(TestIdp.EncryptAssertion(TestIdp.SignAssertion(Distinct(i)), TestCipher.Aes256Gcm))),
            ("signed + encrypted, AES-256-CBC + RSA-OAEP", i =>
                TestIdp.ToBase64(TestIdp.EncryptAssertion(TestIdp.SignAssertion(Distinct(i)), TestCipher.Aes256Cbc))),
        ];

        Console.WriteLine($"Serverless.Sso ACS bench: SamlResponseValidator.Validate, {responses} distinct responses per case, " +
                          $"{parallel} thread(s), {Environment.ProcessorCount} cores, RSA-2048 keys, in-process (no HTTP, no storage)");
        Console.WriteLine($"{"response",-44} {"count",7} {"bytes",7} {"ops/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        var failed = 0;
        foreach (var (name, build) in cases)
        {
            var parameters = TestIdp.Parameters();
            var prepared = Enumerable.Range(0, responses + warmup).Select(build).ToArray();
            for (var i = responses; i < prepared.Length; i++) SamlResponseValidator.Validate(prepared[i], parameters);

            var latencies = new double[responses];
            var errors = 0;
            var next = -1;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < responses)
                {
                    var started = Stopwatch.GetTimestamp();
                    var result = SamlResponseValidator.Validate(prepared[i], parameters);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (!result.IsSuccess || result.Value.Id != AssertionId(i)) Interlocked.Increment(ref errors);
                }
            })));
            total.Stop();
            Array.Sort(latencies);
            failed += errors;
            Console.WriteLine($"{name,-44} {responses,7} {prepared[0].Length,7} {responses / total.Elapsed.TotalSeconds,9:0.0} " +
                              $"{Percentile(latencies, 0.50),8:0.000} {Percentile(latencies, 0.99),8:0.000} {errors,7}");
        }
        return failed == 0 ? 0 : 1;

        static System.Xml.XmlDocument Distinct(int i) =>
            TestIdp.Response(new TestResponse { ResponseId = $"_resp_bench_{i:D6}", AssertionId = AssertionId(i) });

        static string AssertionId(int i) => $"_assert_bench_{i:D6}";

        static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

        int IntArg(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var parsed) ? parsed : fallback;
        }
    }
}
