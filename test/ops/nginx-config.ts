/**
 * The nginx configuration of docs/deployment.md, made for a test: loopback
 * only, every file in one temporary directory, in the foreground.
 */
import { nginxConfigHead } from '../helpers/nginx';

export interface NginxTestConfig {
  dir: string;
  listenPort: number;
  relayPort: number;
}

export function nginxTestConfig({ dir, listenPort, relayPort }: NginxTestConfig): string {
  return `${nginxConfigHead(dir, { errorLogLevel: 'warn', accessLog: 'off', workerConnections: 256 })}
  # WebSocket and WebRoute are both HTTP/1.1 upgrades: pass Upgrade on, and
  # Connection: upgrade only when the client asked for one.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }
  upstream remoted { server 127.0.0.1:${relayPort}; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://remoted;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      # A dialer gets no answer until it is linked, and a link may be quiet for long.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}
