import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { createTenant, listTenants, type TenantIn, type TenantOut } from "../../client";
import { formatDate } from "../../lib/format";
import { ErrorMessage } from "../Common/ErrorMessage";

// The platform admin's page: every tenant, and a new one with its first admin user.
export function TenantsPage() {
  const queryClient = useQueryClient();
  const tenants = useQuery({
    queryKey: ["tenants"],
    queryFn: async () => (await listTenants({ throwOnError: true })).data,
  });
  const [created, setCreated] = useState<{ tenant: TenantOut; admin: string } | null>(null);
  const create = useMutation({
    mutationFn: async (body: TenantIn) => (await createTenant({ body, throwOnError: true })).data,
    onSuccess: (tenant, body) => {
      setCreated({ tenant, admin: body.admin_username });
      void queryClient.invalidateQueries({ queryKey: ["tenants"] });
    },
  });

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setCreated(null);
    create.mutate(
      {
        name: String(form.get("name")).trim(),
        admin_username: String(form.get("admin_username")).trim(),
        admin_password: String(form.get("admin_password")),
      },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <>
      <h1>Tenants</h1>
      <section aria-labelledby="new-tenant-title" className="card">
        <h2 id="new-tenant-title">New tenant</h2>
        <p className="muted">
          A tenant has its own jobs, workers, API keys and secrets, and sees nothing of the others. Its admin signs in
          with the username and password given here.
        </p>
        <form className="inline-form" onSubmit={onCreate}>
          <div className="field">
            <label htmlFor="tenant-name">Tenant name</label>
            <input id="tenant-name" name="name" required maxLength={100} autoComplete="off" />
          </div>
          <div className="field">
            <label htmlFor="tenant-admin">Admin username</label>
            <input id="tenant-admin" name="admin_username" required maxLength={100} autoComplete="off" />
          </div>
          <div className="field">
            <label htmlFor="tenant-password">Admin password</label>
            <input
              id="tenant-password"
              name="admin_password"
              type="password"
              required
              minLength={8}
              maxLength={200}
              autoComplete="new-password"
            />
          </div>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create tenant
          </button>
        </form>
        <ErrorMessage error={create.error} title="Could not create the tenant" />
        {created && (
          <p role="status" className="muted">
            Created <strong>{created.tenant.name}</strong>; its admin <strong>{created.admin}</strong> can sign in now.
          </p>
        )}
      </section>
      <section aria-labelledby="tenants-title">
        <h2 id="tenants-title">All tenants</h2>
        <ErrorMessage error={tenants.error} title="Could not load tenants" />
        {!!tenants.data?.length && (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Tenants</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col" className="hide-phone">ID</th>
                </tr>
              </thead>
              <tbody>
                {tenants.data.map((tenant) => (
                  <tr key={tenant.id} aria-label={`Tenant ${tenant.name}`}>
                    <td>{tenant.name}</td>
                    <td className="nowrap">{formatDate(tenant.created_at)}</td>
                    <td className="mono hide-phone">{tenant.id}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
