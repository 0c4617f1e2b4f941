namespace Sso.Functions.Audit;

public static class AuditServiceRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(AuditOptions.From(configuration));
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<DailyActivityStore>();
        services.AddSingleton<DailyActivityCounter>();
        services.AddSingleton<AuditWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<AuditWriter>());
        services.AddSingleton<AuditLog>();
        services.AddSingleton<RefusalCountStore>();
        services.AddSingleton<RefusalCounter>();
        services.AddSingleton<RefusalReport>();
        services.AddHostedService(provider => provider.GetRequiredService<RefusalCounter>());
        return services;
    }
}
