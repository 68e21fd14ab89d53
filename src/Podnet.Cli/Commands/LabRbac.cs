using k8s;
using k8s.Models;

namespace Podnet.Cli.Commands;

/// <summary>
/// Creates what deploy/rbac.yaml holds (embedded in this binary): the ServiceAccounts,
/// ClusterRoles and ClusterRoleBindings of Podnet's own components; existing ones are brought
/// to the file's rules and subjects.
/// </summary>
internal static class LabRbac
{
    public static async Task EnsureAsync(IKubernetes client, CancellationToken token)
    {
        foreach (var item in KubernetesYaml.LoadAllFromString(Read()))
        {
            switch (item)
            {
                case V1ServiceAccount account:
                    await IgnoreConflict(() => client.CoreV1.CreateNamespacedServiceAccountAsync(account, account.Metadata.NamespaceProperty, cancellationToken: token));
                    break;
                case V1ClusterRole role:
                    if (!await IgnoreConflict(() => client.RbacAuthorizationV1.CreateClusterRoleAsync(role, cancellationToken: token)))
                    {
                        var current = await client.RbacAuthorizationV1.ReadClusterRoleAsync(role.Metadata.Name, cancellationToken: token);
                        current.Rules = role.Rules;
                        await client.RbacAuthorizationV1.ReplaceClusterRoleAsync(current, role.Metadata.Name, cancellationToken: token);
                    }
                    break;
                case V1ClusterRoleBinding binding:
                    if (!await IgnoreConflict(() => client.RbacAuthorizationV1.CreateClusterRoleBindingAsync(binding, cancellationToken: token)))
                    {
                        var current = await client.RbacAuthorizationV1.ReadClusterRoleBindingAsync(binding.Metadata.Name, cancellationToken: token);
                        current.Subjects = binding.Subjects;
                        await client.RbacAuthorizationV1.ReplaceClusterRoleBindingAsync(current, binding.Metadata.Name, cancellationToken: token);
                    }
                    break;
                default:
                    throw new InvalidOperationException($"deploy/rbac.yaml holds a {item?.GetType().Name}, which podnet lab does not apply");
            }
        }
    }

    /// <summary>True when created, false when it already existed.</summary>
    private static async Task<bool> IgnoreConflict(Func<Task> create)
    {
        try
        {
            await create();
            return true;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    private static string Read()
    {
        using var stream = typeof(LabRbac).Assembly.GetManifestResourceStream("Podnet.deploy.rbac.yaml")
            ?? throw new InvalidOperationException("deploy/rbac.yaml is not embedded in podnet");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
