package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// runInit runs `argoexec agent init`, which writes each plugin's token to
// /var/run/argo/<container>/token inside the sandbox.
func (p *agentPod) runInit(ctx context.Context) error {
	c := &p.pod.Spec.InitContainers[0]
	pr, err := p.startContainer(c, nil, nil)
	if err != nil {
		return err
	}
	select {
	case <-pr.done:
	case <-ctx.Done():
		return fmt.Errorf("agent init: %w", ctx.Err())
	}
	if _, werr := pr.exited(); werr != nil {
		return fmt.Errorf("agent init failed (%v): %s", werr, pr.tail(10))
	}
	return nil
}

// startSidecars starts every plugin sidecar on its own free loopback port
// (all played pods share the host network, so the pod's port cannot be
// used as is) and returns ARGO_PLUGIN_ADDRESSES for those ports.
func (p *agentPod) startSidecars(ctx context.Context) ([]string, error) {
	var addrs []string
	for i := range p.pod.Spec.Containers {
		c := &p.pod.Spec.Containers[i]
		if c.Name == agentMain {
			continue
		}
		port, err := p.startPlugin(ctx, c)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, "http://localhost:"+strconv.Itoa(port))
	}
	return addrs, nil
}

// startPlugin runs our real `serve` with the sidecar's args and env, plus
// what the pod's mounts give it in a cluster: the token file Argo's init
// wrote and a kubeconfig for the plugin account's mounted token.
func (p *agentPod) startPlugin(ctx context.Context, c *corev1.Container) (int, error) {
	if c.Name != pluginconfig.ContainerName {
		return 0, fmt.Errorf("sidecar %q is not the driver plugin: only %q is played", c.Name, pluginconfig.ContainerName)
	}
	kubeconfig, err := p.a.s.sidecarKubeconfig(ctx, p.pod, c, p.dir)
	if err != nil {
		return 0, err
	}
	tokenFile, err := p.pluginTokenFile(c.Name)
	if err != nil {
		return 0, err
	}
	// Another process may take the free port before the plugin binds it:
	// try again on a new one.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		extra := []string{"--addr=127.0.0.1:" + strconv.Itoa(port), "--kubeconfig=" + kubeconfig, "--token-file=" + tokenFile}
		pr, err := p.startContainer(c, extra, nil)
		if err != nil {
			return 0, err
		}
		err = p.waitReady(ctx, c.Name, port)
		if err == nil || attempt == 3 || !strings.Contains(pr.tail(5), "address already in use") {
			return port, err
		}
		_ = pr.Stop(0)
	}
}

func (p *agentPod) waitReady(ctx context.Context, name string, port int) error {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/readyz"
	return poll(ctx, name+" /readyz", func() (bool, error) {
		if done, werr := p.proc(name).exited(); done {
			return false, permanent{fmt.Errorf("%s exited (%v): %s", name, werr, p.proc(name).tail(10))}
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// startMain runs `argoexec agent main` with the pod's env, the plugin
// addresses rewritten to the played ports, and the admin kubeconfig (the
// agent's own RBAC is Argo's business, not this project's).
func (p *agentPod) startMain(addrs []string) error {
	c := p.container(agentMain)
	if c == nil {
		return fmt.Errorf("agent pod has no %q container", agentMain)
	}
	b, _ := json.Marshal(addrs)
	extra := []string{"--kubeconfig=" + p.a.s.Cluster.KubeconfigPath, "--namespace=" + p.ns}
	_, err := p.startContainer(c, extra, map[string]string{envPluginAddrs: string(b)})
	return err
}

// startContainer runs one of the pod's containers inside the sandbox:
// command "argoexec" is the tools' argoexec, a plugin sidecar is our
// binary; args are the container's plus extra (later flags win).
func (p *agentPod) startContainer(c *corev1.Container, extra []string, envOverride map[string]string) (*proc, error) {
	bin, err := p.a.s.containerBinary(c)
	if err != nil {
		return nil, err
	}
	env, err := containerEnv(p.pod, c)
	if err != nil {
		return nil, err
	}
	for k, v := range envOverride {
		env = setEnv(env, k, v)
	}
	argv := append(append([]string{bin}, c.Args...), extra...)
	logPath := filepath.Join(p.dir, c.Name+".log")
	pr, err := startProc(c.Name, logPath, p.sandbox.command(argv...), env)
	if err != nil {
		return nil, err
	}
	p.a.addGroup(pr.pid())
	p.a.s.kubelet.setLog(p.ns, p.name, c.Name, logPath)
	if !p.addProc(c.Name, pr) {
		_ = pr.Stop(0)
		return nil, fmt.Errorf("pod deleted while starting %s", c.Name)
	}
	return pr, nil
}

// containerBinary maps a played container to a host binary.
func (s *Stack) containerBinary(c *corev1.Container) (string, error) {
	if c.Name == pluginconfig.ContainerName {
		return s.PluginBin, nil
	}
	if len(c.Command) == 1 && c.Command[0] == "argoexec" {
		return testenv.ToolPath(s.Cluster.ToolsDir, testenv.Argoexec)
	}
	return "", fmt.Errorf("container %s: command %q is not played", c.Name, c.Command)
}

// pluginTokenFile is where `argoexec agent init` wrote the plugin's token
// (the sidecar sees it as /var/run/argo/token through a subPath mount), or,
// for Behaviour.WrongPluginToken, a file with another token.
func (p *agentPod) pluginTokenFile(container string) (string, error) {
	if !p.a.s.behaviourOf(p.ns).WrongPluginToken {
		return filepath.Join(tokenDir, container, "token"), nil
	}
	path := filepath.Join(p.dir, "wrong-token")
	return path, os.WriteFile(path, []byte(rand.Text()), 0o400)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
