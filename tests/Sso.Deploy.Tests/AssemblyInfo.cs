// The package, the bicep binary (linux-x64 package) and the AOT handler are all Linux things.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
