using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>
/// The defaulting table: for each served kind, an object as a Go client sends it (zero values
/// where client-go writes them) and the object upstream's SetDefaults_* and create-time
/// admission make of it (k8s.io/kubernetes pkg/apis/*/v1/defaults.go), compared whole.
/// </summary>
public sealed class DefaultsTableTests
{
    [Theory]
    [MemberData(nameof(Table))]
    public void Defaults_AsUpstream(string resource, string input, string expected)
    {
        var obj = JsonNode.Parse(input)!.AsObject();
        obj["metadata"] ??= new JsonObject { ["name"] = "x", ["namespace"] = "default" };
        var want = JsonNode.Parse(expected)!.AsObject();
        want["metadata"] ??= obj["metadata"]!.DeepClone();

        Defaults.Apply(ResourceCatalog.Get(resource), obj, null);

        Assert.True(JsonNode.DeepEquals(want, obj), $"{resource}\nexpected {want.ToJsonString()}\nactual   {obj.ToJsonString()}");
    }

    private const string NoTolerations = """
        "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
                       {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]
        """;

    private const string TemplateSpecDefaults = """
        "restartPolicy":"Always","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","terminationGracePeriodSeconds":30,"securityContext":{}
        """;

    private const string DefaultedContainer = """
        {"name":"c","image":"nginx:1.27","imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","resources":{}}
        """;

    public static TheoryData<string, string, string> Table => new()
    {
        // Service: client-go's zero targetPort and an empty one become the port; the type, protocol, affinity and traffic policies.
        {
            "services",
            """{"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":0},{"name":"b","port":81,"targetPort":""},{"name":"c","port":82,"targetPort":"http","protocol":"UDP"}]}}""",
            """{"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":80,"protocol":"TCP"},{"name":"b","port":81,"targetPort":81,"protocol":"TCP"},{"name":"c","port":82,"targetPort":"http","protocol":"UDP"}],"sessionAffinity":"None","type":"ClusterIP","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}"""
        },
        // LoadBalancer: external policy, node ports allocated; ClientIP affinity gets its three-hour timeout.
        {
            "services",
            """{"spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","ports":[{"port":443}]}}""",
            """{"spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}},"ports":[{"port":443,"protocol":"TCP","targetPort":443}],"externalTrafficPolicy":"Cluster","internalTrafficPolicy":"Cluster","allocateLoadBalancerNodePorts":true},"status":{"loadBalancer":{}}}"""
        },
        // A ClusterIP Service with externalIPs is externally accessible: it gets an external policy; None drops an affinity config.
        {
            "services",
            """{"spec":{"externalIPs":["192.0.2.1"],"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}},"ports":[{"port":80}]}}""",
            """{"spec":{"externalIPs":["192.0.2.1"],"sessionAffinity":"None","type":"ClusterIP","ports":[{"port":80,"protocol":"TCP","targetPort":80}],"externalTrafficPolicy":"Cluster","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}"""
        },
        // ExternalName: ports are defaulted, no traffic policies.
        {
            "services",
            """{"spec":{"type":"ExternalName","externalName":"example.com","ports":[{"port":80}]}}""",
            """{"spec":{"type":"ExternalName","externalName":"example.com","sessionAffinity":"None","ports":[{"port":80,"protocol":"TCP","targetPort":80}]},"status":{"loadBalancer":{}}}"""
        },
        // Pod: SetDefaults_PodSpec, SetDefaults_Pod (links, requests from limits), the container's, probes', handlers', volumes'.
        {
            "pods",
            """
            {"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":8080}],
              "resources":{"limits":{"cpu":"1"},"requests":{"memory":"1Mi"}},
              "env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
              "livenessProbe":{"httpGet":{"port":8080},"periodSeconds":0},
              "readinessProbe":{"exec":{"command":["true"]},"failureThreshold":5},
              "lifecycle":{"preStop":{"httpGet":{"port":80,"path":"/stop"}}}}],
             "initContainers":[{"name":"i","image":"registry.local:5000/init@sha256:abc"}],
             "volumes":[{"name":"a"},{"name":"s","secret":{"secretName":"s"}},{"name":"h","hostPath":{"path":"/tmp"}},
              {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"t"}},{"downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}}]}}]}}
            """,
            """
            {"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":8080,"protocol":"TCP"}],
              "resources":{"limits":{"cpu":"1"},"requests":{"memory":"1Mi","cpu":"1"}},
              "env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name","apiVersion":"v1"}}}],
              "livenessProbe":{"httpGet":{"port":8080,"path":"/","scheme":"HTTP"},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},
              "readinessProbe":{"exec":{"command":["true"]},"failureThreshold":5,"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1},
              "lifecycle":{"preStop":{"httpGet":{"port":80,"path":"/stop","scheme":"HTTP"}}},
              "imagePullPolicy":"Always","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
             "initContainers":[{"name":"i","image":"registry.local:5000/init@sha256:abc","imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","resources":{}}],
             "volumes":[{"name":"a","emptyDir":{}},{"name":"s","secret":{"secretName":"s","defaultMode":420}},{"name":"h","hostPath":{"path":"/tmp","type":""}},
              {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"t","expirationSeconds":3600}},{"downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name","apiVersion":"v1"}}]}}],"defaultMode":420}}],
            """ + TemplateSpecDefaults + """
            ,"enableServiceLinks":true,"serviceAccountName":"default","serviceAccount":"default","priority":0,"preemptionPolicy":"PreemptLowerPriority",
            """ + NoTolerations + """
            },"status":{"phase":"Pending","qosClass":"BestEffort"}}
            """
        },
        // Pod on the host network: container ports are host ports; the deprecated serviceAccount names the account.
        {
            "pods",
            """{"spec":{"hostNetwork":true,"serviceAccount":"agent","priorityClassName":"high","containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":53,"protocol":"UDP"}]}]}}""",
            """
            {"spec":{"hostNetwork":true,"serviceAccount":"agent","serviceAccountName":"agent","priorityClassName":"high",
             "containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":53,"protocol":"UDP","hostPort":53}],"imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","resources":{}}],
            """ + TemplateSpecDefaults + """
            ,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority",
            """ + NoTolerations + """
            },"status":{"phase":"Pending","qosClass":"BestEffort"}}
            """
        },
        // Deployment: replicas, RollingUpdate 25 %/25 %, ten revisions, 600 s; the template gets the pod spec's defaults only.
        {
            "apps/deployments",
            """{"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}},"status":{"replicas":9}}""",
            """
            {"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[
            """ + DefaultedContainer + "]," + TemplateSpecDefaults + """
            }},"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{}}
            """
        },
        // Recreate has no rollingUpdate block.
        {
            "apps/deployments",
            """{"spec":{"replicas":0,"strategy":{"type":"Recreate"},"template":{"spec":{"containers":[]}}}}""",
            """{"spec":{"replicas":0,"strategy":{"type":"Recreate"},"template":{"spec":{"containers":[],""" + TemplateSpecDefaults + """}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{}}"""
        },
        // ReplicaSet: replicas only (it has no revisionHistoryLimit).
        {
            "apps/replicasets",
            """{"spec":{"template":{"spec":{"containers":[]}}}}""",
            """{"spec":{"replicas":1,"template":{"spec":{"containers":[],""" + TemplateSpecDefaults + """}}},"status":{}}"""
        },
        // StatefulSet: a defaulted type brings partition 0; retention Retain/Retain.
        {
            "apps/statefulsets",
            """{"spec":{"serviceName":"s","template":{"spec":{"containers":[]}}}}""",
            """{"spec":{"serviceName":"s","replicas":1,"revisionHistoryLimit":10,"podManagementPolicy":"OrderedReady","updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}},"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"},"template":{"spec":{"containers":[],""" + TemplateSpecDefaults + """}}},"status":{}}"""
        },
        // StatefulSet: an explicit RollingUpdate without the block stays without it, as upstream.
        {
            "apps/statefulsets",
            """{"spec":{"updateStrategy":{"type":"RollingUpdate"},"template":{"spec":{"containers":[]}}}}""",
            """{"spec":{"updateStrategy":{"type":"RollingUpdate"},"replicas":1,"revisionHistoryLimit":10,"podManagementPolicy":"OrderedReady","persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"},"template":{"spec":{"containers":[],""" + TemplateSpecDefaults + """}}},"status":{}}"""
        },
        // DaemonSet.
        {
            "apps/daemonsets",
            """{"spec":{"template":{"spec":{"containers":[]}}}}""",
            """{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}},"revisionHistoryLimit":10,"template":{"spec":{"containers":[],""" + TemplateSpecDefaults + """}}},"status":{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}}"""
        },
        // Node: allocatable is the capacity when not given.
        {
            "nodes",
            """{"status":{"capacity":{"cpu":"2","pods":"110"}}}""",
            """{"status":{"capacity":{"cpu":"2","pods":"110"},"allocatable":{"cpu":"2","pods":"110"}}}"""
        },
        // Secret: Opaque, stringData merged.
        {
            "secrets",
            """{"stringData":{"k":"v"}}""",
            """{"type":"Opaque","data":{"k":"dg=="}}"""
        },
        // EndpointSlice ports: name "" and TCP.
        {
            "discovery.k8s.io/endpointslices",
            """{"addressType":"IPv4","endpoints":[],"ports":[{"port":80}]}""",
            """{"addressType":"IPv4","endpoints":[],"ports":[{"port":80,"name":"","protocol":"TCP"}]}"""
        },
        // Endpoints ports: TCP.
        {
            "endpoints",
            """{"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]}""",
            """{"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80,"protocol":"TCP"}]}]}"""
        },
        // RoleBinding: roleRef's group, a User's group, a ServiceAccount's none.
        {
            "rbac.authorization.k8s.io/rolebindings",
            """{"roleRef":{"kind":"Role","name":"r"},"subjects":[{"kind":"User","name":"u"},{"kind":"ServiceAccount","name":"sa","namespace":"default"}]}""",
            """{"roleRef":{"kind":"Role","name":"r","apiGroup":"rbac.authorization.k8s.io"},"subjects":[{"kind":"User","name":"u","apiGroup":"rbac.authorization.k8s.io"},{"kind":"ServiceAccount","name":"sa","namespace":"default"}]}"""
        },
    };
}
