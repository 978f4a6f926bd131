Feature: Platform DNS resolution
  The observed install stalled because Talos pulled its installer image through the UTM default
  resolver, which refused DNS: "lookup factory.talos.dev on 192.168.64.1:53: connection refused".
  Rerunning with --dns-servers 1.1.1.1,8.8.8.8 brought Talos and Kubernetes up. The bootstrapper
  bakes explicit DNS servers into the machine config; the status names the DNS remedy.

  @finding-01 @T004
  Scenario: A refused DNS lookup is classified as platform DNS resolution with the DNS next action
    Given a healthy appliance
    And a Warning event "Failed" on node "appliance-single-node":
      """
      Failed to pull image "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.0": failed to resolve reference "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.0": failed to do request: Head "https://factory.talos.dev/v2/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/manifests/v1.12.0": dial tcp: lookup factory.talos.dev on 192.168.64.1:53: connection refused
      """
    When the status is evaluated
    Then the top blocker layer is "Platform DNS resolution"
    And the top blocker reason mentions "lookup factory.talos.dev on 192.168.64.1:53: connection refused"
    And the top blocker next action mentions "--dns-servers 1.1.1.1,8.8.8.8"

  @finding-01
  Scenario: An image pull whose registry lookup is refused is a DNS problem, not a missing tag
    Given a healthy appliance
    And pod "alga-core-sebastian-6f7d9c8b4-q2w3e" of component "alga-core" is waiting with reason "ErrImagePull":
      """
      failed to pull and unpack image "ghcr.io/nine-minds/alga-psa-ee:94446747": failed to resolve reference "ghcr.io/nine-minds/alga-psa-ee:94446747": failed to do request: Head "https://ghcr.io/v2/nine-minds/alga-psa-ee/manifests/94446747": dial tcp: lookup ghcr.io on 192.168.64.1:53: connection refused
      """
    When the status is evaluated
    Then the top blocker layer is "Platform DNS resolution"
    And the top blocker is login-blocking
    And the top blocker next action mentions "--dns-servers"
    And no blocker has layer "Image tag availability"

  @finding-01
  Scenario: Without explicit DNS servers the observed install is reproduced and diagnosed in the host layer
    Given the world "findings/finding-01-dns-refused"
    When the admin runs the observed fresh bootstrap without DNS servers
    Then the command fails
    And the output contains "Failure layer: host"
    And the output contains "lookup factory.talos.dev on 192.168.64.1:53: connection refused"
    And the output contains "--dns-servers 1.1.1.1,8.8.8.8"

  @finding-02 @finding-01
  Scenario: Prevented: with explicit DNS servers the host phase passes and Kubernetes comes up
    Given the world "findings/finding-01-dns-refused"
    When the admin runs the observed fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the output does not contain "Failure layer: host"
    And the output contains "Platform"
    And the node "appliance-single-node" is Ready
