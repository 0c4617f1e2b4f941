// Two tiny folders for FeatureDependencyTests: they use each other only inside method bodies.

namespace Sso.Functions.Tests.Architecture.Fixtures.Alpha
{
    public static class Caller
    {
        public static int Call() => Beta.Callee.Answer() + 1;
    }
}

namespace Sso.Functions.Tests.Architecture.Fixtures.Beta
{
    public static class Callee
    {
        public static int Answer() => 41;

        public static Func<int> Later() => () => Alpha.Caller.Call();
    }
}
