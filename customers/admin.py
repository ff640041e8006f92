from django.contrib import admin

from customers.models import Customer, CustomerMerge, CustomerNote, Identity, IdentityClaim


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


class ClaimInline(admin.TabularInline):
    model = IdentityClaim
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "email", "phone", "merged_into", "created_at")
    search_fields = ("name", "email", "phone", "identities__value")
    inlines = [IdentityInline, ClaimInline]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ("id", "survivor", "merged", "merged_by", "created_at", "undone_at")
    readonly_fields = ("moved", "survivor_fields_before")


admin.site.register(CustomerNote)
