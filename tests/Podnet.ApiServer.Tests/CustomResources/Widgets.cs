namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>The made-up widgets.example.com CRD the custom resource tests serve.</summary>
internal static class Widgets
{
    /// <summary>
    /// Namespaced, v1 (storage) and v1beta1 served; a schema with every check the server makes,
    /// defaults, the status and scale subresources and printer columns; a CEL rule it enforces and
/// one outside the subset it evaluates (a method call).
    /// </summary>
    public const string Yaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        spec:
          group: example.com
          scope: Namespaced
          names:
            plural: widgets
            singular: widget
            kind: Widget
            shortNames: [wd]
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale:
                specReplicasPath: .spec.replicas
                statusReplicasPath: .status.replicas
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: .spec.size}
            - {name: Color, type: string, jsonPath: .spec.color}
            - {name: Phase, type: string, jsonPath: .status.phase}
            - {name: Owner, type: string, jsonPath: .spec.owner, priority: 1}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [size]
                    x-kubernetes-validations:
                    - rule: self.size <= 100
                    - rule: "!has(self.owner) || self.owner.startsWith('a')"
                    properties:
                      size: {type: integer, minimum: 1, maximum: 10}
                      ratio: {type: number, minimum: 0, maximum: 1, exclusiveMaximum: true}
                      color: {type: string, enum: [red, green, blue], default: red}
                      owner: {type: string, pattern: '^[a-z]+$', maxLength: 8}
                      replicas: {type: integer, default: 1}
                      port: {x-kubernetes-int-or-string: true}
                      tags: {type: array, maxItems: 3, uniqueItems: true, items: {type: string, minLength: 1}}
                      labels: {type: object, additionalProperties: {type: string}}
                      note: {type: string, nullable: true}
                      extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
                      template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
                  status:
                    type: object
                    properties:
                      phase: {type: string}
                      replicas: {type: integer}
          - name: v1beta1
            served: true
            storage: false
            schema:
              openAPIV3Schema:
                type: object
                x-kubernetes-preserve-unknown-fields: true
        """;
}
