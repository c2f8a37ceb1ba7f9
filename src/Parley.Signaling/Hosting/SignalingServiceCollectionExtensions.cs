using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Parley.Signaling;

public static class SignalingServiceCollectionExtensions
{
    /// <summary>Registers the signaling hub with options bound from <paramref name="section"/> and validated at startup.</summary>
    public static IServiceCollection AddSignaling(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<SignalingOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SignalingOptions>, SignalingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ResumeKeyProvider>();
        services.TryAddSingleton<IceServerProvider>();
        services.AddMetrics();
        services.TryAddSingleton<SignalingMetrics>();
        services.TryAddSingleton<SignalingHub>();
        services.AddHostedService<SignalingShutdown>();
        return services;
    }
}
